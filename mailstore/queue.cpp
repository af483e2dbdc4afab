// Mailstore: the outbound queue (entries written by deliver(), worked by smtp/outbound).
#include "common/codec.hpp"
#include "mailstore/mailstore.hpp"
#include "mailstore/txn.hpp"

namespace congvu::mailstore {

using namespace schema;

std::vector<QueueEntry> Mailstore::queue(UnixMs due, std::size_t limit) {
  auto t = index_.read();
  std::vector<QueueEntry> out;
  kv::scan_prefix(*t, schema::queue, "", [&](std::string_view k, std::string_view v) {
    auto q = decode_queue(k, v);
    if (q.next_attempt <= due) out.push_back(std::move(q));
    return out.size() < limit;
  });
  return out;
}

std::optional<QueueEntry> Mailstore::queued(std::uint64_t id) {
  auto t = index_.read();
  auto k = queue_key(id);
  auto v = t->get(schema::queue, k);
  if (!v) return std::nullopt;
  return decode_queue(k, *v);
}

Status Mailstore::update_queued(const QueueEntry& q) {
  return write([&](kv::WriteTxn& t, std::vector<MailboxId>&) -> Status {
    auto k = queue_key(q.id);
    if (!t.get(schema::queue, k)) return make_error(Errc::not_found, "queue entry " + std::to_string(q.id) + " is gone");
    if (q.done()) {
      t.del(schema::queue, k);
      detail::unref_blob(t, q.blob);
    } else {
      t.put(schema::queue, k, encode(q));
    }
    return ok_status();
  });
}

Status Mailstore::delete_queued(std::uint64_t id) {
  return write([&](kv::WriteTxn& t, std::vector<MailboxId>&) -> Status {
    auto k = queue_key(id);
    auto v = t.get(schema::queue, k);
    if (!v) return make_error(Errc::not_found, "no queue entry " + std::to_string(id));
    auto q = decode_queue(k, *v);
    t.del(schema::queue, k);
    detail::unref_blob(t, q.blob);
    return ok_status();
  });
}

std::uint64_t Mailstore::flush_queue(UnixMs now) {
  std::uint64_t n = 0;
  (void)write([&](kv::WriteTxn& t, std::vector<MailboxId>&) -> Status {
    n = 0;
    std::vector<QueueEntry> all;
    kv::scan_prefix(t, schema::queue, "", [&](std::string_view k, std::string_view v) {
      all.push_back(decode_queue(k, v));
      return true;
    });
    for (auto& q : all) {
      q.next_attempt = now;
      t.put(schema::queue, queue_key(q.id), encode(q));
      ++n;
    }
    return ok_status();
  });
  return n;
}

std::string Mailstore::blob_bytes(const std::string& sha) {
  BlobRecord b;
  {
    auto t = index_.read();
    auto v = t->get(blob, sha);
    if (!v) throw std::runtime_error("mail.mdb: a queue entry points at a missing blob");
    b = decode_blob(*v);
  }
  return blobs_.read(BlobLocation{b.segment, b.offset, b.length});
}

}  // namespace congvu::mailstore
