// Audit chain verification, the audit log reader, the consistency check, and authentication.
#include "common/codec.hpp"
#include "common/crypto.hpp"
#include "common/text.hpp"
#include "directory/directory.hpp"
#include "directory/factors.hpp"

namespace congvu::directory {

AuditReport Snapshot::verify_audit() {
  AuditReport rep;
  std::string prev(32, '\0');
  std::uint64_t expect = 1;
  auto fail = [&](std::uint64_t seq, std::string why) {
    rep.ok = false;
    rep.first_bad = seq;
    rep.problem = std::move(why);
    return false;
  };
  kv::scan_prefix(t_, schema::audit, "", [&](std::string_view k, std::string_view v) {
    std::uint64_t seq = k.size() == 8 ? codec::get_be64(k) : 0;
    AuditRecord r;
    try {
      r = decode_audit(v);
    } catch (const codec::DecodeError& e) {
      return fail(seq, std::string("record cannot be decoded: ") + e.what());
    }
    if (seq != expect || r.seq != seq) return fail(expect, "records missing or out of order");
    if (r.prev_hash != prev) return fail(seq, "does not link to the previous record");
    auto d = crypto::sha256(r.prev_hash + encode_audit_body(r));
    if (!crypto::equal_constant_time(r.hash, std::string_view(reinterpret_cast<const char*>(d.data()), d.size())))
      return fail(seq, "content does not match its hash (the record was altered)");
    prev = r.hash;
    ++expect;
    ++rep.records;
    return true;
  });
  if (!rep.ok) return rep;
  auto head = t_.get(schema::meta, "audit_head");
  if (rep.records == 0 && !head) return rep;
  if (!head || head->size() != 40 || codec::get_be64(*head) != rep.records || head->substr(8) != prev) {
    rep.ok = false;
    rep.first_bad = rep.records;
    rep.problem = "the chain head does not match the last record (records were removed)";
  }
  return rep;
}

std::vector<AuditRecord> Snapshot::audit_log(std::string_view target, std::size_t limit) {
  std::vector<AuditRecord> out;
  kv::scan_prefix(t_, schema::audit, "", [&](std::string_view, std::string_view v) {
    AuditRecord r = decode_audit(v);
    if (target.empty() || r.target == target) out.push_back(std::move(r));
    return true;
  });
  if (out.size() > limit) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(limit));
  return out;
}

std::vector<AuditRecord> Snapshot::audit_after(std::uint64_t seq, std::size_t limit) {
  std::vector<AuditRecord> out;
  auto c = t_.cursor(schema::audit);
  std::string k;
  codec::put_be64(k, seq + 1);
  for (bool ok = c->seek(k); ok && out.size() < limit; ok = c->next()) out.push_back(decode_audit(c->value()));
  return out;
}

std::uint64_t Snapshot::audit_head_seq() {
  auto head = t_.get(schema::meta, "audit_head");
  return head && head->size() >= 8 ? codec::get_be64(*head) : 0;
}

std::vector<std::string> Snapshot::check(std::size_t max) {
  std::vector<std::string> problems;
  auto report = [&](std::string p) {
    if (problems.size() < max) problems.push_back(std::move(p));
  };
  auto points_to = [&](schema::Table t, std::string_view key, std::string_view id) {
    auto v = t_.get(t, key);
    return v && *v == id;
  };
  std::uint64_t people = 0;
  try {
    kv::scan_prefix(t_, schema::person, "", [&](std::string_view k, std::string_view v) {
      ++people;
      Person p = decode_person(k, v);
      std::string who = p.staff_no + " (" + p.id.str() + ")";
      if (!points_to(schema::login, p.login, k)) report(who + ": login index missing");
      if (!points_to(schema::staffno, p.staff_no, k)) report(who + ": staff number index missing");
      if (!points_to(schema::addr, p.address, "P" + std::string(k))) report(who + ": address index missing");
      bool retired = p.status == PersonStatus::retired;
      if (retired != p.unit.empty()) report(who + ": unit and status disagree");
      if (!p.unit.empty()) {
        if (!t_.get(schema::unit, p.unit)) report(who + ": unit " + p.unit + " does not exist");
        if (!t_.get(schema::member, schema::join0(p.unit, k))) report(who + ": member index missing");
      }
      auto hist = history(p.id);
      if (hist.size() != p.assignments) report(who + ": assignment count differs from history");
      std::size_t open = 0;
      for (std::size_t i = 0; i < hist.size(); ++i) {
        if (hist[i].to.empty()) ++open;
        if (i + 1 < hist.size() && hist[i].to != hist[i + 1].from) report(who + ": history has a gap");
      }
      if (open != (retired ? 0u : 1u)) report(who + ": wrong number of open assignments");
      if (!hist.empty() && !retired && (hist.back().unit != p.unit || hist.back().position != p.position))
        report(who + ": current assignment differs from the person record");
      for (const auto& tok : text::fold_tokens(p.full_name))
        if (!t_.get(schema::name, schema::join0(tok, k))) report(who + ": name index missing for " + tok);
      return true;
    });
    auto reverse = [&](schema::Table t, const char* what, auto id_of) {
      kv::scan_prefix(t_, t, "", [&](std::string_view k, std::string_view v) {
        auto id = id_of(k, v);
        if (!id.empty() && !t_.get(schema::person, id)) report(std::string(what) + " entry points at a missing person");
        return true;
      });
    };
    reverse(schema::login, "login", [](std::string_view, std::string_view v) { return v; });
    reverse(schema::staffno, "staff number", [](std::string_view, std::string_view v) { return v; });
    reverse(schema::member, "member", [](std::string_view k, std::string_view) { return k.substr(k.size() - 16); });
    reverse(schema::name, "name", [](std::string_view k, std::string_view) { return k.substr(k.size() - 16); });
    reverse(schema::addr, "address", [](std::string_view, std::string_view v) {
      return !v.empty() && v[0] == 'P' ? v.substr(1) : std::string_view();
    });
    kv::scan_prefix(t_, schema::member, "", [&](std::string_view k, std::string_view) {
      auto unit_code = k.substr(0, k.size() - 17);
      auto p = person(*PersonId::from_bytes(k.substr(k.size() - 16)));
      if (p && p->unit != unit_code) report(p->staff_no + ": member of " + std::string(unit_code) + " but assigned to " + p->unit);
      return true;
    });
    kv::scan_prefix(t_, schema::unit, "", [&](std::string_view k, std::string_view v) {
      Unit u = decode_unit(v);
      if (u.code != k) report("unit " + std::string(k) + ": key and record differ");
      if (!u.parent.empty() && !t_.get(schema::unit, u.parent)) report("unit " + u.code + ": parent missing");
      bool in_tree = t_.get(schema::unit_child, schema::join0(u.parent, u.code)).has_value();
      if (u.dissolved.empty() && !in_tree) report("unit " + u.code + ": tree index missing");
      if (!u.dissolved.empty() && in_tree) report("unit " + u.code + ": dissolved but still in the tree");
      if (!u.dissolved.empty() && !t_.get(schema::unit, u.successor)) report("unit " + u.code + ": successor " + u.successor + " missing");
      return true;
    });
  } catch (const codec::DecodeError& e) {
    report(std::string("a record cannot be decoded: ") + e.what());
  }
  auto audit = verify_audit();
  if (!audit.ok) report("audit record " + std::to_string(audit.first_bad) + ": " + audit.problem);
  return problems;
}

CredentialCache::CredentialCache(std::size_t max_entries, UnixMs ttl_ms)
    : secret_(crypto::random_string(32)), max_(max_entries), ttl_(ttl_ms) {}

std::string CredentialCache::key(const PersonId& id, std::string_view password) const {
  std::string data(id.bytes());
  data += password;
  return crypto::hmac_sha256(secret_, data);
}

std::optional<bool> CredentialCache::lookup(const PersonId& id, std::string_view password, std::string_view stored_hash,
                                            UnixMs now) {
  std::string k = key(id, password);
  std::lock_guard lk(mu_);
  auto it = entries_.find(k);
  if (it == entries_.end()) return std::nullopt;
  if (now - it->second.at > ttl_ || now < it->second.at ||
      !crypto::equal_constant_time(it->second.stored_hash, stored_hash)) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.right;
}

void CredentialCache::put(const PersonId& id, std::string_view password, std::string_view stored_hash, UnixMs now,
                          bool right) {
  std::string k = key(id, password);
  std::lock_guard lk(mu_);
  if (entries_.size() >= max_) entries_.clear();
  entries_[k] = {std::string(stored_hash), now, right};
}

Directory::HashSlot::HashSlot(std::atomic<int>& in_use, int limit) : in_use_(in_use) {
  int n = in_use_.fetch_add(1) + 1;
  held_ = limit <= 0 || n <= limit;
  if (!held_) in_use_.fetch_sub(1);
}

Directory::HashSlot::~HashSlot() {
  if (held_) in_use_.fetch_sub(1);
}

Result<Person> Directory::authenticate(std::string_view who, std::string_view password, UnixMs now, Purpose purpose,
                                       AuthDetail* detail) {
  AuthDetail scratch;
  AuthDetail& d = detail ? *detail : scratch;
  auto denied = [&](const char* reason) {
    d.reason = reason;
    return make_error(Errc::unauthorized, "invalid credentials");
  };
  auto busy = [] { return make_error(Errc::unavailable, "too many password checks at once; try again in a moment"); };
  std::optional<Person> p;
  std::optional<Credential> cred;
  bool app_password = false, needs_factor = false;
  read([&](Snapshot& s) {
    p = who.find('@') != std::string_view::npos ? s.resolve(who) : s.by_login(who);
    if (p) cred = s.credential(p->id);
    if (p && purpose == Purpose::mail) {
      app_password = app_password_matches(s, p->id, password);
      needs_factor = !app_password && s.second_factor_required(*p);
    }
    return 0;
  });
  if (p && p->status == PersonStatus::active && app_password) return *p;
  // The same time as a real check, so that timing does not reveal who exists or who must use
  // a second factor.
  auto equalise = [&](const char* reason) -> Result<Person> {
    HashSlot slot = hash_slot(d.trusted);
    if (!slot) return busy();
    static const std::string dummy = hash_password("congvu-timing-equaliser", settings_.argon2);
    (void)verify_password(dummy, password);
    return denied(reason);
  };
  if (needs_factor) return equalise("second-factor-required");
  if (!p) return equalise("unknown-login");
  if (!cred || p->status != PersonStatus::active) return equalise("not-active");
  if (auto known = cache_.lookup(p->id, password, cred->password_hash, now)) {
    if (*known) return *p;
    d.repeated = true;
    return denied("wrong-password");
  }
  {
    HashSlot slot = hash_slot(d.trusted);
    if (!slot) return busy();
    if (!verify_password(cred->password_hash, password)) {
      cache_.put(p->id, password, cred->password_hash, now, false);
      return denied("wrong-password");
    }
  }
  if (!needs_rehash(cred->password_hash, settings_.argon2)) cache_.put(p->id, password, cred->password_hash, now);
  if (needs_rehash(cred->password_hash, settings_.argon2)) {
    // Upgrade an imported or outdated hash now that the password is known. Failure to upgrade
    // must not fail the login.
    auto r = write(Actor{"system:rehash"}, now, [&](Change& c) -> Status {
      auto current = c.credential(p->id);
      if (!current || current->password_hash != cred->password_hash) return ok_status();
      Credential next;
      next.password_hash = hash_password(password, settings_.argon2);
      next.scram_sha256 = scram_sha256_verifier(password);
      next.updated = now;
      c.put(schema::cred, p->id.bytes(), encode(next));
      c.audit("person.rehash", p->id.str(), "", "{\"scheme\":\"argon2id\"}");
      return ok_status();
    });
    (void)r;
  }
  return *p;
}

}  // namespace congvu::directory
