// Mailstore: delivery, message reads, flags, expunge, copy/move, QRESYNC lookups.
#include <algorithm>

#include "common/codec.hpp"
#include "common/crypto.hpp"
#include "mailstore/mailstore.hpp"
#include "mailstore/mime.hpp"
#include "mailstore/txn.hpp"

namespace congvu::mailstore {

using namespace schema;
using detail::Rollback;

namespace {

struct DeliveryState {
  std::shared_ptr<const Delivery> d;
  std::string sha;
  std::optional<BlobLocation> written;  // kept across reruns of the job
  std::string summary;                  // encoded mime::Summary of a new blob
  Receipt receipt;
  std::vector<MailboxId> changed;
};

Error error_of(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const Rollback& r) {
    return r.error;
  } catch (const std::exception& x) {
    return Error{Errc::io, std::string("the mail store failed: ") + x.what()};
  }
}

// Places one delivery in the transaction: the blob (referenced, or indexed when new), a
// message in every target mailbox, and the outbound queue entry. Reruns start over.
void apply_delivery(kv::WriteTxn& t, DeliveryState& st, BlobStore& blobs, const Mailstore& ms) {
  st.receipt = Receipt{st.sha, false, {}};
  st.changed.clear();
  const Delivery& d = *st.d;
  std::uint64_t n = d.targets.size() + (d.outbound.empty() ? 0 : 1);
  if (!detail::ref_blob(t, st.sha, n)) {
    // Unknown (or collected since the check above): write it now if not yet written.
    if (!st.written) st.written = blobs.append(st.sha, d.data);
    detail::add_blob(t, st.sha, *st.written, n);
    if (st.summary.empty()) st.summary = mime::encode(mime::summarize(d.data));
    t.put(schema::summary, st.sha, st.summary);
    st.receipt.new_blob = true;
  }
  // Mailbox records are loaded once per mailbox even when a group lists it twice.
  std::map<std::string, MailboxRecord> boxes;
  for (const auto& target : d.targets) {
    std::string key = mailbox_key(target.account, detail::normalize_name(target.mailbox));
    auto it = boxes.find(key);
    if (it == boxes.end()) {
      auto m = detail::find(t, target.account, target.mailbox);
      if (!m && target.mailbox != "INBOX") {
        // A special-use target (Junk for quarantined mail) brings the whole set.
        detail::ensure_account(t, target.account, d.internal_date);
        m = detail::find(t, target.account, target.mailbox);
      }
      if (!m) m = detail::ensure_inbox(t, target.account, d.internal_date);
      it = boxes.emplace(key, *m).first;
    }
    if (d.enforce_quota && detail::usage(t, target.account).bytes + d.data.size() > ms.quota(target.account))
      detail::rollback(Errc::conflict, "over quota");
    MessageRecord proto;
    proto.blob = st.sha;
    proto.size = d.data.size();
    proto.internal_date = d.internal_date;
    proto.flags = target.flags & kAllFlags;
    proto.keywords = target.keywords;
    Uid uid = detail::place(t, it->second, proto);
    st.receipt.placed.push_back(Placement{it->second.id, it->second.uidvalidity, uid});
  }
  for (auto& [k, m] : boxes) {
    detail::save(t, m);
    st.changed.push_back(m.id);
  }
  if (!d.outbound.empty()) {
    QueueEntry q;
    q.id = detail::next_counter(t, "next_queue", 1);
    q.blob = st.sha;
    q.size = d.data.size();
    q.sender = d.sender;
    q.envid = d.envid;
    q.ret_full = d.ret_full;
    q.created = q.next_attempt = d.internal_date;
    q.rcpts = d.outbound;
    t.put(schema::queue, queue_key(q.id), encode(q));
    st.receipt.queued = q.id;
  }
}

}  // namespace

void Mailstore::deliver(std::shared_ptr<const Delivery> d, std::function<void(Result<Receipt>)> done,
                        Expectation expected) {
  auto st = std::make_shared<DeliveryState>();
  st->d = std::move(d);
  st->sha = crypto::sha256_raw(st->d->data);
  if (st->d->targets.empty() && st->d->outbound.empty()) {
    done(make_error(Errc::invalid_argument, "a delivery needs at least one target"));
    return;
  }
  {
    // Write the bytes here, on the caller's thread, unless the store has them already: the
    // committer thread then only syncs and indexes.
    auto t = index_.read();
    if (!t->get(blob, st->sha)) {
      st->written = blobs_.append(st->sha, st->d->data);
      st->summary = mime::encode(mime::summarize(st->d->data));
    }
  }
  auto submit = [&](kv::GroupCommitter::Job job, kv::GroupCommitter::Done fin) {
    auto since = expected.since();
    if (expected.release())
      committer_->submit_expected(std::move(job), std::move(fin), since);
    else
      committer_->submit(std::move(job), std::move(fin));
  };
  submit(
      [this, st](kv::WriteTxn& t) { apply_delivery(t, *st, blobs_, *this); },
      [this, st, done = std::move(done)](std::exception_ptr e) {
        if (e) {
          done(error_of(e));
          return;
        }
        publish(st->changed);
        done(std::move(st->receipt));
      });
}

Result<std::vector<Receipt>> Mailstore::deliver_all(const std::vector<Delivery>& ds) {
  std::vector<DeliveryState> states(ds.size());
  {
    auto t = index_.read();
    for (std::size_t i = 0; i < ds.size(); ++i) {
      if (ds[i].targets.empty() && ds[i].outbound.empty())
        return make_error(Errc::invalid_argument, "a delivery needs at least one target");
      states[i].d = std::make_shared<const Delivery>(ds[i]);
      states[i].sha = crypto::sha256_raw(ds[i].data);
      if (!t->get(blob, states[i].sha)) {
        states[i].written = blobs_.append(states[i].sha, ds[i].data);
        states[i].summary = mime::encode(mime::summarize(ds[i].data));
      }
    }
  }
  std::vector<MailboxId> changed;
  try {
    committer_->run([&](kv::WriteTxn& t) {
      changed.clear();
      for (auto& st : states) {
        apply_delivery(t, st, blobs_, *this);
        changed.insert(changed.end(), st.changed.begin(), st.changed.end());
      }
    });
  } catch (...) {
    return error_of(std::current_exception());
  }
  publish(changed);
  std::vector<Receipt> out;
  for (auto& st : states) out.push_back(std::move(st.receipt));
  return out;
}

Result<Receipt> Mailstore::deliver(const Delivery& d) {
  std::promise<Result<Receipt>> p;
  auto f = p.get_future();
  deliver(std::make_shared<const Delivery>(d), [&p](Result<Receipt> r) { p.set_value(std::move(r)); });
  return f.get();
}

std::vector<MessageRecord> Mailstore::messages(MailboxId id, Uid from, Uid to) {
  auto t = index_.read();
  std::vector<MessageRecord> out;
  auto c = t->cursor(msg);
  std::string prefix = id_key(id);
  for (c->seek(msg_key(id, from)); c->valid() && c->key().starts_with(prefix); c->next()) {
    auto m = decode_message(c->key(), c->value());
    if (m.uid > to) break;
    out.push_back(std::move(m));
  }
  return out;
}

mime::Summary Mailstore::summary(const MessageRecord& m) {
  {
    auto t = index_.read();
    if (auto v = t->get(schema::summary, m.blob)) return mime::decode_summary(*v);
  }
  return mime::summarize(body(m));  // stored before summaries existed
}

std::optional<std::string> Mailstore::try_body(const MessageRecord& m) {
  BlobRecord b;
  {
    auto t = index_.read();
    auto v = t->get(blob, m.blob);
    if (!v) return std::nullopt;
    b = decode_blob(*v);
  }
  return blobs_.read(BlobLocation{b.segment, b.offset, b.length});
}

std::optional<mime::Summary> Mailstore::try_summary(const MessageRecord& m) {
  {
    auto t = index_.read();
    if (auto v = t->get(schema::summary, m.blob)) return mime::decode_summary(*v);
  }
  auto data = try_body(m);
  if (!data) return std::nullopt;
  return mime::summarize(*data);
}

std::string Mailstore::body(const MessageRecord& m) {
  BlobRecord b;
  {
    auto t = index_.read();
    auto v = t->get(blob, m.blob);
    if (!v) throw std::runtime_error("mail.mdb: message " + std::to_string(m.uid.v) + " points at a missing blob");
    b = decode_blob(*v);
  }
  return blobs_.read(BlobLocation{b.segment, b.offset, b.length});
}

namespace {

std::uint8_t apply(FlagOp op, std::uint8_t have, std::uint8_t f) {
  switch (op) {
    case FlagOp::add: return have | f;
    case FlagOp::remove: return have & ~f;
    case FlagOp::replace: return f;
  }
  return have;
}

std::vector<std::string> apply(FlagOp op, std::vector<std::string> have, const std::vector<std::string>& k) {
  auto has = [&](const std::string& w) { return std::find(have.begin(), have.end(), w) != have.end(); };
  switch (op) {
    case FlagOp::replace: have = k; break;
    case FlagOp::add:
      for (const auto& w : k)
        if (!has(w)) have.push_back(w);
      break;
    case FlagOp::remove:
      have.erase(std::remove_if(have.begin(), have.end(),
                                [&](const std::string& w) { return std::find(k.begin(), k.end(), w) != k.end(); }),
                 have.end());
      break;
  }
  std::sort(have.begin(), have.end());
  have.erase(std::unique(have.begin(), have.end()), have.end());
  return have;
}

}  // namespace

Result<FlagResult> Mailstore::store_flags(MailboxId id, const std::vector<Uid>& uids, const FlagChange& change) {
  FlagResult out;
  auto s = write([&](kv::WriteTxn& t, std::vector<MailboxId>& changed) -> Status {
    out = {};
    auto m = detail::load(t, id);
    if (!m) return make_error(Errc::not_found, "no such mailbox");
    ModSeq next = m->highest_modseq + 1;
    for (Uid uid : uids) {
      auto r = detail::get_message(t, id, uid);
      if (!r) continue;  // expunged meanwhile: nothing to change (RFC 9051 6.4.6)
      if (change.unchanged_since && r->modseq > *change.unchanged_since) {
        out.skipped.push_back(uid);
        continue;
      }
      std::uint8_t flags = apply(change.op, r->flags, change.flags & kAllFlags);
      auto keywords = apply(change.op, r->keywords, change.keywords);
      if (flags == r->flags && keywords == r->keywords) continue;
      if ((r->flags & seen) && !(flags & seen)) ++m->unseen;
      if (!(r->flags & seen) && (flags & seen)) --m->unseen;
      t.del(schema::modseq, modseq_key(id, r->modseq, uid));
      r->flags = flags;
      r->keywords = std::move(keywords);
      r->modseq = next;  // one modseq for everything this STORE changed (RFC 7162 3.1)
      t.put(msg, msg_key(id, uid), encode(*r));
      t.put(schema::modseq, modseq_key(id, next, uid), "L");
      out.changed.push_back(*r);
    }
    if (!out.changed.empty()) {
      m->highest_modseq = next;
      detail::save(t, *m);
      changed.push_back(id);
    }
    return ok_status();
  });
  if (!s) return s.error();
  return out;
}

Result<std::vector<Uid>> Mailstore::expunge(MailboxId id, const std::vector<Uid>& uids) {
  std::vector<Uid> out;
  auto s = write([&](kv::WriteTxn& t, std::vector<MailboxId>& changed) -> Status {
    out.clear();
    auto m = detail::load(t, id);
    if (!m) return make_error(Errc::not_found, "no such mailbox");
    std::vector<MessageRecord> victims;
    if (uids.empty()) {
      kv::scan_prefix(t, msg, id_key(id), [&](std::string_view k, std::string_view v) {
        auto r = decode_message(k, v);
        if (r.flags & deleted) victims.push_back(std::move(r));
        return true;
      });
    } else {
      for (Uid u : uids)
        if (auto r = detail::get_message(t, id, u); r && (r->flags & deleted)) victims.push_back(std::move(*r));
    }
    if (victims.empty()) return ok_status();
    ModSeq at = ++m->highest_modseq;
    for (const auto& r : victims) {
      detail::unplace(t, *m, r, at);
      out.push_back(r.uid);
    }
    detail::save(t, *m);
    changed.push_back(id);
    return ok_status();
  });
  if (!s) return s.error();
  std::sort(out.begin(), out.end());
  return out;
}

Result<CopyResult> Mailstore::copy(MailboxId from, const std::vector<Uid>& uids, MailboxId to, bool move, UnixMs) {
  CopyResult out;
  auto s = write([&](kv::WriteTxn& t, std::vector<MailboxId>& changed) -> Status {
    out = {};
    auto src = detail::load(t, from);
    auto dst = detail::load(t, to);
    if (!src || !dst) return make_error(Errc::not_found, "no such mailbox");
    // from == to with move: each message gets a new UID in the same mailbox (as Dovecot does).
    out.uidvalidity = dst->uidvalidity;
    std::vector<MessageRecord> picked;
    for (Uid u : uids)
      if (auto r = detail::get_message(t, from, u)) picked.push_back(std::move(*r));
    std::uint64_t bytes = 0;
    for (const auto& r : picked) bytes += r.size;
    if (dst->account != src->account && detail::usage(t, dst->account).bytes + bytes > quota(dst->account))
      return make_error(Errc::conflict, "over quota");
    for (const auto& r : picked) {
      detail::ref_blob(t, r.blob, 1);
      MailboxRecord& target = from == to ? *src : *dst;
      Uid nu = detail::place(t, target, r);
      out.uids.emplace_back(r.uid, nu);
    }
    if (move && !picked.empty()) {
      ModSeq at = ++src->highest_modseq;
      for (const auto& r : picked) detail::unplace(t, *src, r, at);
    }
    detail::save(t, *src);
    if (from != to) detail::save(t, *dst);
    changed.push_back(from);
    changed.push_back(to);
    return ok_status();
  });
  if (!s) return s.error();
  return out;
}

std::vector<std::pair<Uid, ModSeq>> Mailstore::changed_since(MailboxId id, ModSeq since) {
  auto t = index_.read();
  std::vector<std::pair<Uid, ModSeq>> out;
  auto c = t->cursor(schema::modseq);
  std::string prefix = id_key(id);
  for (c->seek(modseq_key(id, since + 1, Uid{0})); c->valid() && c->key().starts_with(prefix); c->next())
    if (c->value() == "L")
      out.emplace_back(Uid{codec::get_be32(c->key().substr(16))}, codec::get_be64(c->key().substr(8)));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Uid> Mailstore::expunged_since(MailboxId id, ModSeq since) {
  auto t = index_.read();
  std::vector<Uid> out;
  auto c = t->cursor(schema::modseq);
  std::string prefix = id_key(id);
  for (c->seek(modseq_key(id, since + 1, Uid{0})); c->valid() && c->key().starts_with(prefix); c->next())
    if (c->value() == "X") out.push_back(Uid{codec::get_be32(c->key().substr(16))});
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace congvu::mailstore
