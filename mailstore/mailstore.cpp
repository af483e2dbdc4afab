#include "mailstore/mailstore.hpp"

#include "common/files.hpp"

#include <algorithm>
#include <filesystem>

#include "common/codec.hpp"
#include "mailstore/txn.hpp"

namespace congvu::mailstore {

using namespace schema;
using detail::Rollback;

Mailstore::Mailstore(kv::Store& index, BlobStore& blobs, Settings settings)
    : index_(index), blobs_(blobs), settings_(settings) {
  // A commit waits (up to gather_max_us) for deliveries that sessions have announced: under
  // load it then holds the messages of every busy session for its two fdatasyncs.
  kv::GroupCommitter::Gather gather{std::chrono::microseconds(settings.gather_min_us),
                                    std::chrono::microseconds(settings.gather_max_us)};
  committer_ = std::make_unique<kv::GroupCommitter>(index_, 4096, [this] { blobs_.sync(); }, gather);
  auto t = index_.write();
  if (!t->get(meta, "schema")) {
    t->put(meta, "schema", "1");
    t->commit();
  } else if (*t->get(meta, "schema") != "1") {
    throw kv::Error("mail.mdb: unknown schema version " + std::string(*t->get(meta, "schema")));
  }
}

Mailstore::~Mailstore() = default;

Status Mailstore::write(const std::function<Status(kv::WriteTxn&, std::vector<MailboxId>&)>& job) {
  std::vector<MailboxId> changed;
  try {
    committer_->run([&](kv::WriteTxn& t) {
      changed.clear();
      Status s = job(t, changed);
      if (!s) throw Rollback{s.error()};
    });
  } catch (const Rollback& r) {
    return r.error;
  }
  publish(changed);
  return ok_status();
}

void Mailstore::ensure_account(const std::string& account, UnixMs now) {
  {
    auto r = index_.read();
    if (r->get(schema::mailbox, mailbox_key(account, "Archive"))) return;  // the last of the set
  }
  (void)write([&](kv::WriteTxn& t, std::vector<MailboxId>&) {
    detail::ensure_account(t, account, now);
    return ok_status();
  });
}

std::vector<MailboxRecord> Mailstore::list(const std::string& account) {
  auto t = index_.read();
  std::vector<MailboxRecord> out;
  kv::scan_prefix(*t, schema::mailbox, mailbox_key(account, ""), [&](std::string_view, std::string_view v) {
    if (auto m = detail::load(*t, MailboxId{codec::get_be64(v)})) out.push_back(std::move(*m));
    return true;
  });
  return out;
}

std::optional<MailboxRecord> Mailstore::mailbox(const std::string& account, const std::string& name) {
  auto t = index_.read();
  return detail::find(*t, account, name);
}

std::optional<MailboxRecord> Mailstore::mailbox(MailboxId id) {
  auto t = index_.read();
  return detail::load(*t, id);
}

Result<MailboxRecord> Mailstore::create(const std::string& account, const std::string& raw, UnixMs now, bool subscribe) {
  std::string name = detail::normalize_name(raw);
  if (auto why = detail::invalid_name_reason(name); !why.empty()) return make_error(Errc::invalid_argument, why);
  std::optional<MailboxRecord> made;
  auto s = write([&](kv::WriteTxn& t, std::vector<MailboxId>&) -> Status {
    if (detail::find(t, account, name)) return make_error(Errc::conflict, "mailbox '" + name + "' exists");
    // Parents first (RFC 9051 6.3.4: CREATE a/b/c creates a and a/b).
    // Each new mailbox is subscribed if asked, or if its name was subscribed before it existed.
    auto make = [&](const std::string& n) {
      MailboxRecord m = detail::create_mailbox(t, account, n, SpecialUse::none, now);
      std::string key = mailbox_key(account, m.name);
      bool was = t.get(schema::subscription, key).has_value();
      if (was) t.del(schema::subscription, key);
      m.subscribed = subscribe || was;
      detail::save(t, m);
      return m;
    };
    for (std::size_t i = name.find('/'); i != std::string::npos; i = name.find('/', i + 1))
      if (!detail::find(t, account, name.substr(0, i))) make(name.substr(0, i));
    made = make(name);
    return ok_status();
  });
  if (!s) return s.error();
  return *made;
}

Status Mailstore::rename(const std::string& account, const std::string& from_raw, const std::string& to_raw,
                         UnixMs now) {
  std::string from = detail::normalize_name(from_raw), to = detail::normalize_name(to_raw);
  if (auto why = detail::invalid_name_reason(to); !why.empty()) return make_error(Errc::invalid_argument, why);
  if (to == "INBOX") return make_error(Errc::conflict, "INBOX exists");
  return write([&](kv::WriteTxn& t, std::vector<MailboxId>& changed) -> Status {
    auto src = detail::find(t, account, from);
    if (!src) return make_error(Errc::not_found, "no mailbox '" + from + "'");
    if (detail::find(t, account, to)) return make_error(Errc::conflict, "mailbox '" + to + "' exists");
    if (to.starts_with(from + "/")) return make_error(Errc::invalid_argument, "cannot rename a mailbox into itself");
    for (std::size_t i = to.find('/'); i != std::string::npos; i = to.find('/', i + 1))
      if (!detail::find(t, account, to.substr(0, i)))
        detail::create_mailbox(t, account, to.substr(0, i), SpecialUse::none, now);
    if (from == "INBOX") {
      // RFC 9051 6.3.6: renaming INBOX moves its messages into a new mailbox; INBOX stays.
      auto dst = detail::create_mailbox(t, account, to, SpecialUse::none, now);
      std::vector<MessageRecord> msgs;
      kv::scan_prefix(t, msg, id_key(src->id), [&](std::string_view k, std::string_view v) {
        msgs.push_back(decode_message(k, v));
        return true;
      });
      ModSeq at = ++src->highest_modseq;
      for (const auto& m : msgs) {
        detail::ref_blob(t, m.blob, 1);
        detail::place(t, dst, m);
        detail::unplace(t, *src, m, at);
      }
      detail::save(t, *src);
      detail::save(t, dst);
      changed.push_back(src->id);
      return ok_status();
    }
    std::vector<std::pair<std::string, std::string>> moves;  // old key name -> new name
    kv::scan_prefix(t, schema::mailbox, mailbox_key(account, from), [&](std::string_view k, std::string_view) {
      std::string name(k.substr(account.size() + 1));
      if (name == from || name.starts_with(from + "/")) moves.emplace_back(name, to + name.substr(from.size()));
      return true;
    });
    for (const auto& [old_name, new_name] : moves) {
      auto m = detail::find(t, account, old_name);
      t.del(schema::mailbox, mailbox_key(account, old_name));
      m->name = new_name;
      t.put(schema::mailbox, mailbox_key(account, new_name), id_key(m->id));
      detail::save(t, *m);
    }
    return ok_status();
  });
}

Status Mailstore::remove(const std::string& account, const std::string& raw) {
  std::string name = detail::normalize_name(raw);
  if (name == "INBOX") return make_error(Errc::conflict, "INBOX cannot be deleted");
  return write([&](kv::WriteTxn& t, std::vector<MailboxId>& changed) -> Status {
    auto m = detail::find(t, account, name);
    if (!m) return make_error(Errc::not_found, "no mailbox '" + name + "'");
    bool children = false;
    kv::scan_prefix(t, schema::mailbox, mailbox_key(account, name + "/"), [&](std::string_view, std::string_view) {
      children = true;
      return false;
    });
    if (children) return make_error(Errc::conflict, "mailbox '" + name + "' has children; delete them first");
    std::vector<std::string> keys;
    kv::scan_prefix(t, msg, id_key(m->id), [&](std::string_view k, std::string_view v) {
      auto r = decode_message(k, v);
      detail::unref_blob(t, r.blob);
      detail::add_usage(t, account, -static_cast<std::int64_t>(r.size), -1);
      keys.emplace_back(k);
      return true;
    });
    for (const auto& k : keys) t.del(msg, k);
    for (auto table : {schema::modseq, schema::acl}) {
      keys.clear();
      kv::scan_prefix(t, table, id_key(m->id), [&](std::string_view k, std::string_view) {
        keys.emplace_back(k);
        return true;
      });
      for (const auto& k : keys) t.del(table, k);
    }
    t.del(schema::mailbox, mailbox_key(account, name));
    t.del(mbox, id_key(m->id));
    // A deleted mailbox stays subscribed (RFC 9051 6.3.5; LIST shows it \NonExistent).
    if (m->subscribed) t.put(schema::subscription, mailbox_key(account, m->name), "");
    changed.push_back(m->id);
    return ok_status();
  });
}

Status Mailstore::subscribe(const std::string& account, const std::string& raw, bool on) {
  std::string name = detail::normalize_name(raw);
  if (auto why = detail::invalid_name_reason(name); !why.empty()) return make_error(Errc::invalid_argument, why);
  return write([&](kv::WriteTxn& t, std::vector<MailboxId>&) -> Status {
    auto m = detail::find(t, account, name);
    if (m) {
      m->subscribed = on;
      detail::save(t, *m);
    } else if (on) {
      t.put(schema::subscription, mailbox_key(account, name), "");
    } else {
      t.del(schema::subscription, mailbox_key(account, name));
    }
    return ok_status();
  });
}

std::vector<std::string> Mailstore::orphan_subscriptions(const std::string& account) {
  auto t = index_.read();
  std::vector<std::string> out;
  std::string prefix = mailbox_key(account, "");
  kv::scan_prefix(*t, schema::subscription, prefix, [&](std::string_view k, std::string_view) {
    out.emplace_back(k.substr(prefix.size()));
    return true;
  });
  return out;
}

Result<std::uint32_t> Mailstore::claim_recent(MailboxId id, std::uint32_t upto) {
  {
    auto t = index_.read();
    auto m = detail::load(*t, id);
    if (!m) return make_error(Errc::not_found, "no such mailbox");
    if (m->first_recent >= upto) return m->first_recent;  // nothing to take: no write
  }
  std::uint32_t first = upto;
  auto st = write([&](kv::WriteTxn& t, std::vector<MailboxId>&) -> Status {
    auto m = detail::load(t, id);
    if (!m) return make_error(Errc::not_found, "no such mailbox");
    first = m->first_recent;
    if (first < upto) {
      m->first_recent = upto;
      detail::save(t, *m);
    }
    return ok_status();
  });
  if (!st) return st.error();
  return first;
}

Usage Mailstore::usage(const std::string& account) {
  auto t = index_.read();
  return detail::usage(*t, account);
}

std::uint64_t Mailstore::quota(const std::string& account) const {
  return is_unit_account(account) ? settings_.unit_quota_bytes : settings_.person_quota_bytes;
}

bool Mailstore::fits(const std::string& account, std::uint64_t extra) {
  return usage(account).bytes + extra <= quota(account);
}

std::string Mailstore::rights(MailboxId id, const Accessor& who) {
  auto t = index_.read();
  auto m = detail::load(*t, id);
  if (!m) return {};
  if (m->account == who.self) return kOwnerRights;
  auto entry = [&](std::string_view ident) -> std::optional<std::string> {
    auto v = t->get(schema::acl, id_key(id) + std::string(ident));
    if (!v) return std::nullopt;
    return std::string(*v);
  };
  if (std::find(who.roles.begin(), who.roles.end(), m->account) != who.roles.end())
    return entry("$holders").value_or(kRoleRights);
  if (auto r = entry(who.self)) return *r;
  return entry("anyone").value_or("");
}

Status Mailstore::set_acl(MailboxId id, const std::string& identifier, const std::string& rights) {
  for (char c : rights)
    if (std::string_view(kOwnerRights).find(c) == std::string_view::npos)
      return make_error(Errc::invalid_argument, std::string("unknown right '") + c + "' (RFC 4314: lrswipkxtea)");
  if (identifier.empty()) return make_error(Errc::invalid_argument, "empty ACL identifier");
  return write([&](kv::WriteTxn& t, std::vector<MailboxId>&) -> Status {
    if (!detail::load(t, id)) return make_error(Errc::not_found, "no such mailbox");
    if (rights.empty())
      t.del(schema::acl, id_key(id) + identifier);
    else
      t.put(schema::acl, id_key(id) + identifier, rights);
    return ok_status();
  });
}

std::vector<std::pair<std::string, std::string>> Mailstore::acl(MailboxId id) {
  auto t = index_.read();
  std::vector<std::pair<std::string, std::string>> out;
  kv::scan_prefix(*t, schema::acl, id_key(id), [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k.substr(8)), std::string(v));
    return true;
  });
  return out;
}

std::vector<std::pair<MailboxRecord, std::string>> Mailstore::shared_with(const std::string& identifier) {
  auto t = index_.read();
  std::vector<std::pair<MailboxRecord, std::string>> out;
  kv::scan_prefix(*t, schema::acl, "", [&](std::string_view k, std::string_view v) {
    if (k.size() > 8 && k.substr(8) == identifier) {
      if (auto m = detail::load(*t, MailboxId{codec::get_be64(k.substr(0, 8))})) out.emplace_back(std::move(*m), std::string(v));
    }
    return true;
  });
  return out;
}

std::uint64_t Mailstore::watch(MailboxId id, Watcher w) {
  std::lock_guard lk(watch_mu_);
  auto token = next_watch_++;
  watchers_[id].emplace(token, std::move(w));
  watch_boxes_.emplace(token, id);
  return token;
}

void Mailstore::unwatch(std::uint64_t token) {
  std::lock_guard lk(watch_mu_);
  auto it = watch_boxes_.find(token);
  if (it == watch_boxes_.end()) return;
  auto box = watchers_.find(it->second);
  box->second.erase(token);
  if (box->second.empty()) watchers_.erase(box);
  watch_boxes_.erase(it);
}

void Mailstore::publish(const std::vector<MailboxId>& changed) {
  if (changed.empty()) return;
  std::vector<MailboxId> ids = changed;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<std::pair<MailboxId, std::vector<Watcher>>> calls;
  {
    std::lock_guard lk(watch_mu_);
    for (MailboxId id : ids) {
      auto box = watchers_.find(id);
      if (box == watchers_.end()) continue;
      auto& fns = calls.emplace_back(id, std::vector<Watcher>{}).second;
      for (const auto& [token, fn] : box->second) fns.push_back(fn);
    }
  }
  if (calls.empty()) return;
  auto t = index_.read();
  for (auto& [id, fns] : calls)
    if (auto m = detail::load(*t, id))  // once per mailbox, however many sessions watch it
      for (auto& fn : fns) fn(id, m->highest_modseq);
}

OpenedStore open(const std::string& data_dir, std::uint64_t map_size_mb, Settings settings, bool read_only) {
  make_private_dir(data_dir);
  OpenedStore o;
  o.index = kv::open_lmdb(data_dir + "/mail.mdb", table_names(), kv::LmdbOptions{map_size_mb << 20});
  SegmentOptions so;
  so.read_only = read_only;
  o.blobs = open_segment_blobs(data_dir + "/mail/blobs", so);
  o.store = std::make_unique<Mailstore>(*o.index, *o.blobs, settings);
  return o;
}

OpenedStore open_memory(Settings settings) {
  OpenedStore o;
  o.index = kv::open_memory(table_names());
  o.blobs = open_memory_blobs();
  o.store = std::make_unique<Mailstore>(*o.index, *o.blobs, settings);
  return o;
}

}  // namespace congvu::mailstore
