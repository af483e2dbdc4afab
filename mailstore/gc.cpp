// Mailstore: garbage collection of blob segments and the consistency check.
#include <map>

#include "common/codec.hpp"
#include "common/crypto.hpp"
#include "mailstore/mailstore.hpp"
#include "mailstore/txn.hpp"

namespace congvu::mailstore {

using namespace schema;

GcReport Mailstore::collect(double min_live) {
  GcReport rep;
  std::uint32_t current = blobs_.current_segment();
  std::map<std::uint32_t, std::uint64_t> live;
  {
    auto t = index_.read();
    kv::scan_prefix(*t, segment, "", [&](std::string_view k, std::string_view v) {
      live[codec::get_be32(k)] = codec::get_be64(v);
      return true;
    });
  }
  for (std::uint32_t seg : blobs_.segments()) {
    if (seg == current) continue;
    std::uint64_t size = blobs_.segment_size(seg);
    std::uint64_t l = live.count(seg) ? live[seg] : 0;
    if (l > 0 && size > 0 && static_cast<double>(l) / static_cast<double>(size) >= min_live) continue;
    if (l > 0) {
      // Copy the live blobs to the current segment, then point the index at the copies. A
      // blob released or moved meanwhile is left alone (the job re-checks its location).
      std::vector<std::pair<std::string, BlobRecord>> moving;
      {
        auto t = index_.read();
        kv::scan_prefix(*t, blob, "", [&](std::string_view k, std::string_view v) {
          auto b = decode_blob(v);
          if (b.segment == seg) moving.emplace_back(std::string(k), b);
          return true;
        });
      }
      std::vector<BlobLocation> copies;
      for (const auto& [sha, b] : moving)
        copies.push_back(blobs_.append(sha, blobs_.read(BlobLocation{b.segment, b.offset, b.length})));
      (void)write([&](kv::WriteTxn& t, std::vector<MailboxId>&) -> Status {
        for (std::size_t i = 0; i < moving.size(); ++i) {
          auto v = t.get(blob, moving[i].first);
          if (!v) continue;
          auto b = decode_blob(*v);
          if (b.segment != seg || b.offset != moving[i].second.offset) continue;
          std::int64_t bytes = static_cast<std::int64_t>(BlobStore::kHeader + b.length);
          detail::add_segment_live(t, seg, -bytes);
          b.segment = copies[i].segment;
          b.offset = copies[i].offset;
          t.put(blob, moving[i].first, encode(b));
          detail::add_segment_live(t, b.segment, bytes);
        }
        return ok_status();
      });
      rep.blobs_moved += moving.size();
      ++rep.segments_compacted;
      auto t = index_.read();
      auto v = t->get(segment, segment_key(seg));
      if (v && codec::get_be64(*v) > 0) continue;  // something still points here
    }
    (void)write([&](kv::WriteTxn& t, std::vector<MailboxId>&) -> Status {
      t.del(segment, segment_key(seg));
      return ok_status();
    });
    rep.bytes_freed += size;
    blobs_.remove_segment(seg);
    ++rep.segments_removed;
  }
  return rep;
}

std::vector<std::string> Mailstore::check(std::size_t max) {
  std::vector<std::string> problems;
  auto report = [&](std::string p) {
    if (problems.size() < max) problems.push_back(std::move(p));
  };
  auto t = index_.read();
  std::map<std::string, std::uint64_t> refs;
  std::map<std::string, Usage> usage;
  std::map<std::uint32_t, std::uint64_t> live;
  kv::scan_prefix(*t, mbox, "", [&](std::string_view, std::string_view v) {
    auto m = decode_mailbox(v);
    MailboxRecord sum;
    kv::scan_prefix(*t, msg, id_key(m.id), [&](std::string_view k, std::string_view mv) {
      auto r = decode_message(k, mv);
      ++refs[r.blob];
      ++sum.messages;
      if (!(r.flags & seen)) ++sum.unseen;
      sum.bytes += r.size;
      if (r.uid.v >= m.uidnext) report("mailbox " + m.name + " of " + m.account + ": uid " + std::to_string(r.uid.v) + " >= uidnext");
      if (r.modseq > m.highest_modseq) report("mailbox " + m.name + " of " + m.account + ": message modseq above the mailbox's");
      if (t->get(schema::modseq, modseq_key(m.id, r.modseq, r.uid)) != std::optional<std::string_view>("L"))
        report("mailbox " + m.name + " of " + m.account + ": uid " + std::to_string(r.uid.v) + " has no modseq entry");
      return true;
    });
    if (sum.messages != m.messages || sum.unseen != m.unseen || sum.bytes != m.bytes)
      report("mailbox " + m.name + " of " + m.account + ": counters do not match its messages");
    usage[m.account].bytes += sum.bytes;
    usage[m.account].messages += sum.messages;
    return true;
  });
  kv::scan_prefix(*t, schema::queue, "", [&](std::string_view k, std::string_view v) {
    ++refs[decode_queue(k, v).blob];
    return true;
  });
  kv::scan_prefix(*t, blob, "", [&](std::string_view k, std::string_view v) {
    auto b = decode_blob(v);
    auto it = refs.find(std::string(k));
    std::uint64_t n = it == refs.end() ? 0 : it->second;
    if (n != b.refs)
      report("blob " + crypto::hex(k) + ": " + std::to_string(b.refs) + " references recorded, " + std::to_string(n) + " found");
    if (it != refs.end()) refs.erase(it);
    live[b.segment] += BlobStore::kHeader + b.length;
    if (!t->get(schema::summary, k)) report("blob " + crypto::hex(k) + " has no MIME summary");
    return true;
  });
  kv::scan_prefix(*t, schema::summary, "", [&](std::string_view k, std::string_view v) {
    if (!t->get(blob, k)) report("MIME summary " + crypto::hex(k) + " of a blob that is gone");
    try {
      (void)mime::decode_summary(v);
    } catch (const codec::DecodeError& e) {
      report("MIME summary " + crypto::hex(k) + ": " + e.what());
    }
    return true;
  });
  for (const auto& [sha, n] : refs) report("blob " + crypto::hex(sha) + " is used by " + std::to_string(n) + " messages but not recorded");
  kv::scan_prefix(*t, schema::usage, "", [&](std::string_view k, std::string_view v) {
    auto u = decode_usage(v);
    auto s = usage[std::string(k)];
    if (u.bytes != s.bytes || u.messages != s.messages) report("usage of " + std::string(k) + " does not match its mailboxes");
    return true;
  });
  kv::scan_prefix(*t, segment, "", [&](std::string_view k, std::string_view v) {
    auto seg = codec::get_be32(k);
    if (codec::get_be64(v) != live[seg]) report("segment " + std::to_string(seg) + ": live bytes do not match its blobs");
    return true;
  });
  return problems;
}

}  // namespace congvu::mailstore
