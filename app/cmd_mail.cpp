// `congvu mail`: read a person's or a unit's mailboxes beside the running server (boxes, list,
// cat), verify the mail store (check) and reclaim blob space (gc).
#include <iostream>

#include "app/commands.hpp"
#include "app/retention.hpp"
#include "app/output.hpp"
#include "common/crypto.hpp"
#include "common/text.hpp"
#include <boost/json.hpp>
#include "mailstore/mailstore.hpp"
#include "smtp/dkim.hpp"

namespace congvu::app {
namespace json = boost::json;

namespace {

// The mail account an address, login or unit role address names.
std::string account_of(Env& env, const std::string& who) {
  return env.dir->read([&](directory::Snapshot& s) {
    if (auto p = s.resolve(who)) return mailstore::person_account(p->id);
    std::string address = text::ascii_lower(who.find('@') == std::string::npos ? who + "@" + s.settings().domain : who);
    auto o = s.address_owner(address);
    if (o && o->kind == directory::AddressOwner::unit) return mailstore::unit_account(o->key);
    throw std::runtime_error("no person or unit mailbox matches '" + who + "'");
  });
}

std::string flags_text(std::uint8_t f, const std::vector<std::string>& keywords) {
  std::string out;
  const std::pair<std::uint8_t, const char*> names[] = {{mailstore::seen, "\\Seen"}, {mailstore::answered, "\\Answered"},
                                                        {mailstore::flagged, "\\Flagged"}, {mailstore::deleted, "\\Deleted"},
                                                        {mailstore::draft, "\\Draft"}};
  for (auto [bit, name] : names)
    if (f & bit) out += (out.empty() ? "" : " ") + std::string(name);
  for (const auto& k : keywords) out += (out.empty() ? "" : " ") + k;
  return out;
}

}  // namespace

int cmd_mail(const Argv& argv) {
  Args a(argv, {"--data", "--config", "--mailbox", "--min-live"}, {"--json", "--dry-run"});
  std::string sub = a.positional(0, "a subcommand: boxes WHO, list WHO, cat WHO UID, check, gc, purge-retired");
  Env env = open_env(a);
  bool writes = sub == "gc" || (sub == "purge-retired" && !a.flag("--dry-run"));
  auto mail = mailstore::open(env.cfg.data_dir, env.cfg.mail.map_size_mb, {}, !writes);
  auto& ms = *mail.store;
  if (sub == "boxes") {
    a.max_positionals(2);
    auto boxes = ms.list(account_of(env, a.positional(1, "WHO: a login, address or unit address")));
    json::array arr;
    for (const auto& b : boxes) {
      if (env.json)
        arr.emplace_back(json::object{{"name", b.name}, {"special_use", mailstore::special_use_attr(b.use)},
                                      {"uidvalidity", b.uidvalidity}, {"uidnext", b.uidnext}, {"messages", b.messages},
                                      {"unseen", b.unseen}, {"bytes", b.bytes}, {"highest_modseq", b.highest_modseq}});
      else
        std::cout << b.name << "\t" << b.messages << " messages, " << b.unseen << " unseen, " << b.bytes << " bytes\n";
    }
    if (env.json) std::cout << json::serialize(arr) << "\n";
    return 0;
  }
  if (sub == "list" || sub == "cat") {
    a.max_positionals(sub == "cat" ? 3 : 2);
    std::string account = account_of(env, a.positional(1, "WHO: a login, address or unit address"));
    std::string box = a.has("--mailbox") ? a.get("--mailbox") : "INBOX";
    auto m = ms.mailbox(account, box);
    if (!m && sub == "list" && box == "INBOX") {  // no mail received yet: the INBOX is empty
      std::cout << (env.json ? "[]\n" : "");
      return 0;
    }
    if (!m) return fail(env, make_error(Errc::not_found, "no mailbox '" + box + "' for " + a.positional(1, "")));
    if (sub == "cat") {
      std::string uid_text = a.positional(2, "the message UID");
      std::uint32_t uid = 0;
      try {
        uid = static_cast<std::uint32_t>(std::stoul(uid_text));
      } catch (const std::exception&) {
        throw UsageError("UID must be a number, not '" + uid_text + "'");
      }
      auto msgs = ms.messages(m->id, mailstore::Uid{uid}, mailstore::Uid{uid});
      if (msgs.empty()) return fail(env, make_error(Errc::not_found, "no message with UID " + uid_text + " in " + box));
      std::cout << ms.body(msgs[0]);
      return 0;
    }
    json::array arr;
    for (const auto& msg : ms.messages(m->id)) {
      if (env.json)
        arr.emplace_back(json::object{{"uid", msg.uid.v}, {"size", msg.size}, {"internal_date", rfc3339(msg.internal_date)},
                                      {"flags", flags_text(msg.flags, msg.keywords)}, {"modseq", msg.modseq},
                                      {"blob", crypto::hex(msg.blob)}});
      else
        std::cout << msg.uid.v << "\t" << msg.size << "\t" << rfc3339(msg.internal_date) << "\t" << flags_text(msg.flags, msg.keywords) << "\n";
    }
    if (env.json) std::cout << json::serialize(arr) << "\n";
    return 0;
  }
  if (sub == "check") {
    a.max_positionals(1);
    auto problems = ms.check();
    for (const auto& p : problems) std::cerr << "congvu: mail store: " << p << "\n";
    if (!problems.empty()) return 1;
    std::cout << "mail store consistent\n";
    return 0;
  }
  if (sub == "gc") {
    a.max_positionals(1);
    double min_live = a.has("--min-live") ? std::stod(a.get("--min-live")) : 0.5;
    auto r = ms.collect(min_live);
    std::cout << "segments removed " << r.segments_removed << ", compacted " << r.segments_compacted << ", blobs moved "
              << r.blobs_moved << ", bytes freed " << r.bytes_freed << "\n";
    return 0;
  }
  if (sub == "purge-retired") {
    a.max_positionals(1);
    bool dry = a.flag("--dry-run");
    auto rep = purge_retired(*env.dir, ms, vn_date(env.now), env.now, dry);
    json::array people;
    for (const auto& p : rep.people) {
      people.emplace_back(json::object{{"id", p.id}, {"address", p.address}, {"keep_until", p.keep_until}, {"messages", p.messages}});
      if (!env.json)
        std::cout << p.address << "\tkept until " << p.keep_until << "\t" << p.messages << (dry ? " messages to remove\n" : " messages removed\n");
    }
    json::array failed;
    for (const auto& f : rep.failed) failed.emplace_back(f);
    if (env.json) std::cout << json::serialize(json::object{{"dry_run", dry}, {"people", people}, {"failed", failed}}) << "\n";
    else if (rep.people.empty()) std::cout << "no retention period has ended\n";
    for (const auto& f : rep.failed) std::cerr << "congvu: " << f << "\n";
    return rep.failed.empty() ? 0 : 1;
  }
  throw UsageError("unknown mail subcommand '" + sub + "'");
}

int cmd_dkim(const Argv& argv) {
  Args a(argv, {"--data", "--config", "--domain", "--selector", "--algorithm", "--bits"}, {"--json"});
  std::string sub = a.positional(0, "a subcommand: keygen, list");
  a.max_positionals(1);
  config::Config cfg = load_env_config(a);
  std::string dir = cfg.data_dir + "/dkim";
  auto print = [&](const smtp::DkimKeyInfo& k) {
    if (a.flag("--json"))
      std::cout << json::serialize(json::object{{"domain", k.domain}, {"selector", k.selector},
                                                {"algorithm", k.algorithm == smtp::DkimAlgorithm::rsa_sha256 ? "rsa-sha256" : "ed25519-sha256"},
                                                {"dns_name", k.dns_name}, {"dns_txt", k.dns_txt}, {"path", k.path}})
                << "\n";
    else
      std::cout << k.dns_name << ". IN TXT \"" << k.dns_txt << "\"\n";
  };
  if (sub == "keygen") {
    std::string alg = a.has("--algorithm") ? a.get("--algorithm") : "rsa";
    if (alg != "rsa" && alg != "ed25519") throw UsageError("--algorithm must be rsa or ed25519");
    if (!a.has("--selector")) throw UsageError("keygen needs --selector NAME (e.g. cv-rsa-202612)");
    int bits = a.has("--bits") ? std::stoi(a.get("--bits")) : 2048;
    std::string domain = a.has("--domain") ? a.get("--domain") : cfg.directory.domain;
    print(smtp::generate_dkim_key(dir, domain, a.get("--selector"),
                                  alg == "rsa" ? smtp::DkimAlgorithm::rsa_sha256 : smtp::DkimAlgorithm::ed25519_sha256, bits));
    return 0;
  }
  if (sub == "list") {
    for (const auto& k : smtp::list_dkim_keys(dir)) print(k);
    return 0;
  }
  throw UsageError("unknown dkim subcommand '" + sub + "'");
}

int cmd_queue(const Argv& argv) {
  Args a(argv, {"--data", "--config"}, {"--json"});
  std::string sub = a.positional(0, "a subcommand: list, flush, delete ID");
  Env env = open_env(a);
  auto mail = mailstore::open(env.cfg.data_dir, env.cfg.mail.map_size_mb, {}, true);
  auto& ms = *mail.store;
  if (sub == "list") {
    a.max_positionals(1);
    json::array arr;
    for (const auto& q : ms.queue()) {
      json::array rcpts;
      for (const auto& r : q.rcpts) {
        const char* st = r.state == mailstore::OutboundRecipient::pending ? "pending"
                         : r.state == mailstore::OutboundRecipient::delivered ? "delivered" : "failed";
        if (env.json)
          rcpts.emplace_back(json::object{{"address", r.address}, {"state", st}, {"last_reply", r.last_reply}});
        else
          std::cout << q.id << "\t" << q.sender << "\t" << r.address << "\t" << st << "\tattempts " << q.attempts
                    << "\tnext " << rfc3339(q.next_attempt) << "\t" << r.last_reply << "\n";
      }
      if (env.json)
        arr.emplace_back(json::object{{"id", q.id}, {"sender", q.sender}, {"size", q.size}, {"attempts", q.attempts},
                                      {"created", rfc3339(q.created)}, {"next_attempt", rfc3339(q.next_attempt)},
                                      {"recipients", rcpts}});
    }
    if (env.json) std::cout << json::serialize(arr) << "\n";
    return 0;
  }
  if (sub == "flush") {
    a.max_positionals(1);
    std::cout << ms.flush_queue(system_now_ms()) << " queue entries due now\n";
    return 0;
  }
  if (sub == "delete") {
    a.max_positionals(2);
    std::string id_text = a.positional(1, "the queue entry ID (see `congvu queue list`)");
    std::uint64_t id = 0;
    try {
      id = std::stoull(id_text);
    } catch (const std::exception&) {
      throw UsageError("ID must be a number, not '" + id_text + "'");
    }
    auto st = ms.delete_queued(id);
    if (!st) return fail(env, st.error());
    std::cout << "deleted queue entry " << id << "\n";
    return 0;
  }
  throw UsageError("unknown queue subcommand '" + sub + "'");
}

}  // namespace congvu::app
