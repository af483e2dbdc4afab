// The directory: the identity authority of Congvu. People, units, assignments, groups, role
// mailboxes, credentials and the audit log, on a kv::Store (LMDB in production, memory in
// transcript tests).
//
// Reading: dir.read([](Snapshot& s) { ... }) runs on one consistent read transaction.
// Writing: dir.write(actor, now, [](Change& c) -> Result<T> { ... }) runs on one write
// transaction that commits (durably) only if the function returns a value; an Error rolls
// everything back, so an operation is never half applied. With a GroupCommitter the write
// shares a transaction and an fsync with concurrent ones.
// Every Change operation validates before it writes and appends one hash-chained audit record.
// Time is passed in (`now`); nothing here reads the clock.
// Thread-safety: Directory is safe to share; Snapshot and Change belong to their callback.
#pragma once

#include <atomic>

#include <map>
#include <mutex>
#include <unordered_map>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/kv/group_commit.hpp"
#include "common/kv/kv.hpp"
#include "common/result.hpp"
#include "config/config.hpp"
#include "directory/address.hpp"
#include "directory/model.hpp"
#include "directory/password.hpp"
#include "directory/schema.hpp"
#include "directory/tokens.hpp"

namespace congvu::directory {

struct Settings {
  std::string domain;
  Argon2Params argon2;
  // Which positions hold a unit's role mailbox, per unit kind.
  std::map<UnitKind, std::vector<std::string>> role_holders;
  std::vector<std::string> second_factor_groups;
  // Domains of provinces merged into this one: local too (aliases live there).
  std::vector<std::string> merged_domains;
  // A retired person's mailbox is kept this many years after the retirement date.
  std::uint32_t retention_years = 5;
  // The SMTP reply to mail for a retired person without a successor ({unit}, {address}).
  std::string retirement_notice;

  explicit Settings(const config::DirectoryConfig& c = {});
};

struct Actor {
  std::string name;  // "cli:root", or an admin's login
};

struct NewUnit {
  std::string code, parent, name, slug;
  UnitKind kind = UnitKind::division;
  std::string decision;  // audited as the reason (a reorganisation's decision)
};

struct HireSpec {
  std::string staff_no;
  std::string full_name;  // family name first
  NameParts parts;        // optional; split from full_name when all empty
  std::string gender, birth_date;
  std::string unit, position;
  std::string date;      // YYYY-MM-DD the assignment starts; may be empty (unknown) for imports
  std::string decision;
  AssignmentKind kind = AssignmentKind::hire;
};

// transfer (điều động), rotation (luân chuyển), appointment (bổ nhiệm).
struct MoveSpec {
  PersonId person;
  std::string to_unit;       // empty: stay in the current unit (an appointment)
  std::string position;      // empty: keep the current position
  std::string expect_from;   // when set, the person's current unit must be this one
  std::string date, decision;
  AssignmentKind kind = AssignmentKind::transfer;
  std::string note;          // the admin's reason, audited with the decision
};

struct SearchQuery {
  explicit SearchQuery(std::string t = {}) : text(std::move(t)) {}
  std::string text;                 // any order, any case, with or without diacritics, prefixes
  std::string unit;                 // restrict to this unit ...
  bool subtree = true;              // ... and the units below it
  std::optional<PersonStatus> status = PersonStatus::active;  // nullopt: any status
  std::size_t limit = 50;
};

// What an address delivers to.
struct AddressOwner {
  enum Kind { person, unit, group } kind;
  std::string key;  // person id bytes, unit code, or group name
};

struct AuditReport {
  std::uint64_t records = 0;
  bool ok = true;
  std::uint64_t first_bad = 0;  // seq of the first record that fails, when !ok
  std::string problem;
};

class Snapshot {
 public:
  Snapshot(kv::ReadTxn& txn, const Settings& settings) : t_(txn), settings_(settings) {}
  virtual ~Snapshot() = default;

  std::optional<Person> person(const PersonId& id);
  std::optional<Person> by_login(std::string_view login);
  std::optional<Person> by_staff_no(std::string_view staff_no);
  std::optional<AddressOwner> address_owner(std::string_view address);
  // An id, a staff number, a login, the primary address or an alias (any case).
  std::optional<Person> resolve(std::string_view who);

  std::optional<Unit> unit(std::string_view code);
  std::vector<Unit> children(std::string_view code);  // "" for the top level
  std::vector<std::string> subtree(std::string_view code);  // the unit and all below
  std::vector<Assignment> history(const PersonId& id);
  std::optional<Credential> credential(const PersonId& id);
  std::optional<Group> group(std::string_view name);
  std::vector<Group> groups();
  std::vector<Person> group_members(const Group& g);
  // The names of the groups `p` belongs to now (static membership, or a derived group's rule).
  std::vector<std::string> groups_of(const Person& p);
  // Whether `p` must sign in with a second factor: enrolled TOTP, or a member of one of
  // Settings::second_factor_groups.
  bool second_factor_required(const Person& p);
  std::vector<Person> members(std::string_view unit_code, bool subtree);
  // Active people of the unit whose position holds its role mailbox.
  std::vector<Person> role_holders(std::string_view unit_code);
  std::vector<Person> search(const SearchQuery& q);
  std::uint64_t count_people();
  std::uint64_t count_units();

  AuditReport verify_audit();
  std::vector<AuditRecord> audit_log(std::string_view target, std::size_t limit);
  // At most `limit` records with seq > `seq`, in order; and the seq of the newest record.
  std::vector<AuditRecord> audit_after(std::uint64_t seq, std::size_t limit);
  std::uint64_t audit_head_seq();
  // Every index entry matches the record it points at, and the reverse; the audit chain holds.
  // Returns the problems found (empty when consistent), at most `max` of them.
  std::vector<std::string> check(std::size_t max = 50);

  const Settings& settings() const { return settings_; }
  std::optional<std::string_view> get_raw(schema::Table t, std::string_view key) { return t_.get(t, key); }
  void scan(schema::Table t, std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& fn) {
    kv::scan_prefix(t_, t, prefix, fn);
  }

 protected:
  kv::ReadTxn& t_;
  const Settings& settings_;
};

class Change : public Snapshot {
 public:
  Change(kv::WriteTxn& txn, const Settings& settings, Actor actor, UnixMs now)
      : Snapshot(txn, settings), w_(txn), actor_(std::move(actor)), now_(now) {}

  Result<Unit> add_unit(const NewUnit& u);
  Result<Person> hire(const HireSpec& h);
  Result<Person> move(const MoveSpec& m);
  Result<Person> retire(const PersonId& id, const std::string& date, const std::string& decision,
                        const std::string& note = {});
  Result<Person> set_status(const PersonId& id, PersonStatus status, const std::string& reason);
  // Stores a new password (Argon2id + SCRAM verifier); the caller checked the policy.
  Status set_password(const PersonId& id, std::string_view password);
  // Stores an imported hash as it is (checked by check_password_hash()).
  Status set_password_hash(const PersonId& id, const std::string& stored);
  Result<Group> add_group(const Group& g);
  Status add_group_member(const std::string& group, const PersonId& id);
  Status remove_group_member(const std::string& group, const PersonId& id);
  // Another address for the person (a merged province's old address): lowercase, unused.
  Status add_alias(const PersonId& id, const std::string& address, const std::string& reason);

  // Appends one record to the audit chain.
  void audit(std::string action, std::string target, std::string reason, std::string detail);
  bool dirty() const { return writes_ != 0; }
  UnixMs now() const { return now_; }
  // Raw writes, for the bulk operations of this module (event records, rehash).
  void put(schema::Table t, std::string_view k, std::string_view v) {
    ++writes_;
    w_.put(t, k, v);
  }
  void del(schema::Table t, std::string_view k) {
    ++writes_;
    w_.del(t, k);
  }
  // How many puts and deletes this transaction made so far.
  std::uint64_t writes() const { return writes_; }

 private:
  void put_person(const Person* before, const Person& after);
  Result<std::string> allocate_local_part(const std::string& base);

  kv::WriteTxn& w_;
  Actor actor_;
  UnixMs now_;
  std::uint64_t writes_ = 0;
};

// Remembers successful password checks: HMAC-SHA256 under a random per-process key of
// (person id, password) -> the stored hash it was verified against and when. A hit needs the
// same password *and* the same stored hash (a password change or reset misses), younger than
// the TTL. Wrong passwords are remembered the same way: a phone retrying a stale password is
// told "no" without another Argon2id check, and the throttle counts that failure once (a
// wrong password stays wrong until the stored hash changes). Bounded: emptied when it reaches
// max_entries. Thread-safe.
class CredentialCache {
 public:
  explicit CredentialCache(std::size_t max_entries = 100000, UnixMs ttl_ms = 3600 * 1000);
  // True: known right; false: known wrong; nullopt: unknown (check it).
  std::optional<bool> lookup(const PersonId& id, std::string_view password, std::string_view stored_hash, UnixMs now);
  void put(const PersonId& id, std::string_view password, std::string_view stored_hash, UnixMs now, bool right = true);

 private:
  std::string key(const PersonId& id, std::string_view password) const;
  std::string secret_;
  std::size_t max_;
  UnixMs ttl_;
  std::mutex mu_;
  struct Entry {
    std::string stored_hash;
    UnixMs at = 0;
    bool right = true;
  };
  std::unordered_map<std::string, Entry> entries_;
};

class Directory {
 public:
  Directory(kv::Store& store, Settings settings, kv::GroupCommitter* committer = nullptr)
      : store_(store), settings_(std::move(settings)), committer_(committer) {}

  const Settings& settings() const { return settings_; }

  template <class F>
  auto read(F&& fn) {
    auto txn = store_.read();
    Snapshot s(*txn, settings_);
    return fn(s);
  }

  // Runs `fn` on a write transaction that is always rolled back: what a change would do,
  // without doing it (dry runs). Takes the write lock like write(), outside the committer.
  template <class F>
  auto preview(const Actor& actor, UnixMs now, F&& fn) {
    auto txn = store_.write();
    Change c(*txn, settings_, actor, now);
    return fn(c);
  }

  template <class F>
  auto write(const Actor& actor, UnixMs now, F&& fn) -> decltype(fn(std::declval<Change&>())) {
    using R = decltype(fn(std::declval<Change&>()));
    if (!committer_) {
      auto txn = store_.write();
      Change c(*txn, settings_, actor, now);
      R r = fn(c);
      if (r.ok()) txn->commit();
      return r;
    }
    std::optional<R> out;
    try {
      committer_->run([&](kv::WriteTxn& txn) {
        Change c(txn, settings_, actor, now);
        R r = fn(c);
        // A failed operation that already wrote must not share a commit: abort the batch.
        if (!r.ok() && c.dirty()) throw Rollback{r.error()};
        out.emplace(std::move(r));
      });
    } catch (const Rollback& rb) {
      return R(rb.error);
    }
    if (!out) return R(make_error(Errc::io, "the write was not run"));  // run() returns after running it
    return std::move(*out);
  }

  // Verifies a password for a login, address or alias (any case). An imported legacy hash
  // is replaced by Argon2id, with a SCRAM verifier, after a successful check.
  // Successful checks are remembered for cache_ttl (see CredentialCache): mail clients that log
  // in for every session (IMAP, SMTP) pay Argon2id once, not every time. Status is read every
  // time, and a changed password misses the cache.
  // `purpose`: mail (SMTP, IMAP, LDAP binds) also accepts the person's app passwords, and
  // refuses the account password of a person who must use a second factor; web (the login
  // page) accepts the account password only.
  // Argon2id runs on at most hash_slots threads at once (set_hash_slots; 0: no limit): a check
  // that finds them all taken fails at once with Errc::unavailable, so that guessing cannot
  // occupy every worker of a server. Callers answer it with the protocol's temporary error.
  enum class Purpose { mail, web };
  struct AuthDetail {
    // In: the source signed in to this account recently (LoginThrottle's known networks): its
    // check is not bounded by the hash slots, so a flood from elsewhere cannot keep people out.
    bool trusted = false;
    bool repeated = false;  // a wrong password already refused for the same stored hash
    std::string reason;     // for the log: unknown-login, wrong-password, second-factor-required, not-active
  };
  Result<Person> authenticate(std::string_view who, std::string_view password, UnixMs now,
                              Purpose purpose = Purpose::mail, AuthDetail* detail = nullptr);
  void set_hash_slots(unsigned n) { hash_slots_ = static_cast<int>(n); }
  // One slot, held while it lives; false when all were taken.
  class HashSlot {
   public:
    HashSlot(std::atomic<int>& in_use, int limit);
    ~HashSlot();
    HashSlot(const HashSlot&) = delete;
    HashSlot& operator=(const HashSlot&) = delete;
    explicit operator bool() const { return held_; }

   private:
    std::atomic<int>& in_use_;
    bool held_ = false;
  };
  HashSlot hash_slot(bool unbounded = false) { return HashSlot(hashing_, unbounded ? 0 : hash_slots_); }

  // Access tokens of Congvu's IdP as credentials (OAUTHBEARER/XOAUTH2 in mail, bearer tokens
  // in SCIM): enabled by the server once it knows the issuer; `keys` must outlive this.
  void enable_tokens(KeyRing* keys, std::string issuer) {
    keys_ = keys;
    issuer_ = std::move(issuer);
  }
  bool tokens_enabled() const { return keys_ != nullptr; }
  const std::string& token_issuer() const { return issuer_; }
  Result<AccessToken> verify_token(std::string_view token, std::string_view audience, std::string_view scope, UnixMs now) {
    if (!keys_) return make_error(Errc::unauthorized, "tokens are not accepted here");
    return read([&](Snapshot& s) { return verify_access_token(*keys_, s, token, issuer_, audience, scope, now); });
  }

 private:
  struct Rollback {
    Error error;
  };
  kv::Store& store_;
  Settings settings_;
  kv::GroupCommitter* committer_;
  CredentialCache cache_;
  int hash_slots_ = 0;
  std::atomic<int> hashing_{0};
  KeyRing* keys_ = nullptr;
  std::string issuer_;
};

// Opens directory.mdb in `data_dir` (created if needed).
std::unique_ptr<kv::Store> open_store(const std::string& data_dir, std::uint64_t map_size_mb);

}  // namespace congvu::directory
