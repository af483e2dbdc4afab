#include "config/config.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

namespace congvu::config {
namespace {

const std::vector<std::pair<std::string, std::string>> kDefaultListen = {
    {"smtp", "127.0.0.1:2525"},  {"submission", "127.0.0.1:2587"}, {"smtps", "127.0.0.1:2465"},
    {"imap", "127.0.0.1:2143"},  {"imaps", "127.0.0.1:2993"},      {"https", "127.0.0.1:8443"},
    {"ldap", "127.0.0.1:3389"},  {"ldaps", "127.0.0.1:3636"},
};

struct Ctx {
  std::string file;
  std::optional<Error> error;
  void fail(const toml::node& n, const std::string& msg) {
    if (!error) error = make_error(Errc::invalid_argument, file + ":" + std::to_string(n.source().begin.line) + ": " + msg);
  }
};

void check_keys(Ctx& ctx, const toml::table& t, const std::string& section, const std::set<std::string>& known) {
  for (const auto& [k, v] : t) {
    if (known.count(std::string(k.str()))) continue;
    std::string list;
    for (const auto& s : known) list += (list.empty() ? "" : ", ") + s;
    ctx.fail(v, "unknown key '" + std::string(k.str()) + "' in " + section + " (known keys: " + list + ")");
  }
}

template <class T>
void get_int(Ctx& ctx, const toml::table& t, const char* key, const std::string& section, T& out,
             std::int64_t lo, std::int64_t hi, const char* hint) {
  const toml::node* n = t.get(key);
  if (!n) return;
  auto v = n->value<std::int64_t>();
  if (!n->is_integer() || !v || *v < lo || *v > hi) {
    ctx.fail(*n, section + " " + key + " must be an integer from " + std::to_string(lo) + " to " +
                     std::to_string(hi) + " (" + hint + ")");
    return;
  }
  out = static_cast<T>(*v);
}

void get_str(Ctx& ctx, const toml::table& t, const char* key, const std::string& section, std::string& out,
             const char* hint) {
  const toml::node* n = t.get(key);
  if (!n) return;
  if (!n->is_string()) {
    ctx.fail(*n, section + " " + key + " must be a string in double quotes (" + hint + ")");
    return;
  }
  out = **n->as_string();
}

bool valid_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// A list of strings, each accepted by `valid` when given; `what` completes "KEY must be ...".
void get_str_list(Ctx& ctx, const toml::table& t, const char* key, const std::string& section,
                  std::vector<std::string>& out, bool (*valid)(const std::string&), const char* what) {
  const toml::node* n = t.get(key);
  if (!n) return;
  const auto* arr = n->as_array();
  bool ok = arr != nullptr;
  std::vector<std::string> values;
  if (arr)
    for (const auto& el : *arr) {
      if (!el.is_string() || (valid && !valid(**el.as_string()))) ok = false;
      else values.push_back(**el.as_string());
    }
  if (!ok) ctx.fail(*n, section + " " + key + " must be " + what);
  else out = std::move(values);
}

void get_bool(Ctx& ctx, const toml::table& t, const char* key, const std::string& section, bool& out) {
  const toml::node* n = t.get(key);
  if (!n) return;
  if (!n->is_boolean()) {
    ctx.fail(*n, section + " " + key + " must be true or false (without quotes)");
    return;
  }
  out = **n->as_boolean();
}

const toml::table* section(Ctx& ctx, const toml::table& root, const char* name) {
  const toml::node* n = root.get(name);
  if (!n) return nullptr;
  if (!n->is_table()) {
    ctx.fail(*n, std::string(name) + " must be a table: write [" + name + "] on its own line");
    return nullptr;
  }
  return n->as_table();
}

bool valid_domain(const std::string& d) {
  if (d.empty() || d.size() > 253 || d.front() == '.' || d.back() == '.' || d.find("..") != std::string::npos) return false;
  for (char c : d)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  return true;
}

}  // namespace

Config::Config() {
  for (const auto& [name, addr] : kDefaultListen) listen[name] = parse_listen(addr).value();
}

const std::vector<std::string>& Config::listener_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [n, _] : kDefaultListen) v.push_back(n);
    return v;
  }();
  return names;
}

Result<Listen> parse_listen(std::string_view s) {
  Listen l;
  if (s == "off") return l;
  auto bad = [&] {
    return make_error(Errc::invalid_argument,
                      "'" + std::string(s) + "' is not HOST:PORT (e.g. \"127.0.0.1:2525\", \"[::1]:0\") or \"off\"");
  };
  std::string_view host, port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') return bad();
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos || s.find(':') != colon) return bad();
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.size() > 5) return bad();
  unsigned p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return bad();
    p = p * 10 + static_cast<unsigned>(c - '0');
  }
  if (p > 65535) return bad();
  l.host = std::string(host);
  l.port = static_cast<std::uint16_t>(p);
  return l;
}

Result<Config> parse_config(std::string_view text, const std::string& file) {
  Config cfg;
  cfg.source = file;
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    return make_error(Errc::invalid_argument, file + ":" + std::to_string(e.source().begin.line) + ": " +
                                                  std::string(e.description()) + " (see `congvu config example`)");
  }
  Ctx ctx{file, std::nullopt};
  check_keys(ctx, root, "the top level", {"server", "tls", "listen", "directory", "mail", "idp", "ldap", "limits"});
  if (auto* s = section(ctx, root, "server")) {
    check_keys(ctx, *s, "[server]", {"data_dir", "threads", "hostname", "demo"});
    get_str(ctx, *s, "data_dir", "[server]", cfg.data_dir, "e.g. \"/var/lib/congvu\"");
    get_int(ctx, *s, "threads", "[server]", cfg.threads, 0, 256, "0 means one per core");
    get_str(ctx, *s, "hostname", "[server]", cfg.hostname, "e.g. \"mail.tinhmau.gov.vn\"");
    get_bool(ctx, *s, "demo", "[server]", cfg.demo);
    if (const auto* n = s->get("data_dir"); n && cfg.data_dir.empty()) ctx.fail(*n, "[server] data_dir must not be empty");
  }
  if (auto* s = section(ctx, root, "tls")) {
    check_keys(ctx, *s, "[tls]", {"cert", "key"});
    get_str(ctx, *s, "cert", "[tls]", cfg.cert_file, "a PEM certificate chain file");
    get_str(ctx, *s, "key", "[tls]", cfg.key_file, "a PEM private key file");
    if (cfg.cert_file.empty() != cfg.key_file.empty())
      ctx.fail(*s, "[tls] cert and key go together: set both, or neither to use the local CA");
  }
  if (auto* s = section(ctx, root, "listen")) {
    std::set<std::string> names(Config::listener_names().begin(), Config::listener_names().end());
    check_keys(ctx, *s, "[listen]", names);
    for (const auto& name : Config::listener_names()) {
      const toml::node* n = s->get(name);
      if (!n) continue;
      if (!n->is_string()) {
        ctx.fail(*n, "[listen] " + name + " must be a string such as \"127.0.0.1:2525\" or \"off\"");
        continue;
      }
      auto l = parse_listen(**n->as_string());
      if (!l) ctx.fail(*n, "[listen] " + name + ": " + l.error().message);
      else cfg.listen[name] = *l;
    }
  }
  if (auto* s = section(ctx, root, "directory")) {
    check_keys(ctx, *s, "[directory]", {"domain", "map_size_mb", "second_factor_groups", "retention_years", "retirement_notice",
                                             "argon2", "role_mailbox", "merged_domains"});
    get_str_list(ctx, *s, "merged_domains", "[directory]", cfg.directory.merged_domains, valid_domain,
                 "a list of lowercase DNS names, e.g. [\"tinhcu.gov.vn\"]");
    get_str_list(ctx, *s, "second_factor_groups", "[directory]", cfg.directory.second_factor_groups, nullptr,
                 "a list of group names, e.g. [\"lanh-dao\"]");
    get_str(ctx, *s, "domain", "[directory]", cfg.directory.domain, "e.g. \"tinhmau.gov.vn\"");
    if (const auto* n = s->get("domain"); n && !valid_domain(cfg.directory.domain))
      ctx.fail(*n, "[directory] domain '" + cfg.directory.domain + "' must be a lowercase DNS name such as \"tinhmau.gov.vn\"");
    get_int(ctx, *s, "map_size_mb", "[directory]", cfg.directory.map_size_mb, 16, 1 << 24, "the most the LMDB file may grow to");
    get_int(ctx, *s, "retention_years", "[directory]", cfg.directory.retention_years, 1, 100,
            "years a retired person's mailbox is kept");
    get_str(ctx, *s, "retirement_notice", "[directory]", cfg.directory.retirement_notice,
            "e.g. \"This member of staff has retired; please write to {unit}\"");
    if (const auto* n = s->get("retirement_notice")) {
      const auto& t = cfg.directory.retirement_notice;
      if (t.empty() || t.size() > 400 ||
          !std::all_of(t.begin(), t.end(), [](char c) { return c >= 0x20 && c < 0x7f; }))
        ctx.fail(*n, "[directory] retirement_notice must be 1-400 printable ASCII characters (it is an SMTP reply line); "
                     "{unit} and {address} are replaced");
    }
    if (auto* a = section(ctx, *s, "argon2")) {
      check_keys(ctx, *a, "[directory.argon2]", {"iterations", "memory_kib", "parallelism"});
      auto& d = cfg.directory;
      get_int(ctx, *a, "iterations", "[directory.argon2]", d.argon2_iterations, 1, 100, "passes over memory");
      get_int(ctx, *a, "memory_kib", "[directory.argon2]", d.argon2_memory_kib, 8, 4 << 20, "KiB per hash");
      get_int(ctx, *a, "parallelism", "[directory.argon2]", d.argon2_parallelism, 1, 64, "lanes");
    }
    if (auto* r = section(ctx, *s, "role_mailbox")) {
      check_keys(ctx, *r, "[directory.role_mailbox]", {"province", "department", "district", "division", "commune"});
      for (const auto& [k, v] : *r) {
        std::string kind(k.str());
        if (!cfg.directory.role_holders.count(kind)) continue;
        const auto* arr = v.as_array();
        std::vector<std::string> positions;
        bool ok = arr != nullptr;
        if (arr)
          for (const auto& el : *arr) {
            if (!el.is_string()) ok = false;
            else positions.push_back(**el.as_string());
          }
        if (!ok) ctx.fail(v, "[directory.role_mailbox] " + std::string(k.str()) + " must be a list of positions, e.g. [\"Văn thư\", \"Giám đốc\"]");
        else cfg.directory.role_holders[kind] = positions;
      }
    }
  }
  if (auto* s = section(ctx, root, "mail")) {
    check_keys(ctx, *s, "[mail]", {"map_size_mb", "max_message_mb", "max_recipients", "quota_mb", "unit_quota_mb", "command_timeout_s",
                                    "smarthost", "dns_servers", "outbound_port", "bounce_after_h", "dmarc",
                                    "check_inbound", "imap_plaintext_loopback", "imap_threads"});
    auto& m = cfg.mail;
    get_int(ctx, *s, "map_size_mb", "[mail]", m.map_size_mb, 16, 1 << 24, "the most mail.mdb may grow to");
    get_int(ctx, *s, "max_message_mb", "[mail]", m.max_message_mb, 1, 1024, "the largest message accepted");
    get_int(ctx, *s, "max_recipients", "[mail]", m.max_recipients, 100, 100000, "RCPT commands per message; RFC 5321 asks for at least 100");
    get_int(ctx, *s, "quota_mb", "[mail]", m.quota_mb, 1, 1 << 24, "mailbox quota per person");
    get_int(ctx, *s, "unit_quota_mb", "[mail]", m.unit_quota_mb, 1, 1 << 24, "quota of a unit's official inbox");
    get_int(ctx, *s, "command_timeout_s", "[mail]", m.command_timeout_s, 10, 3600, "seconds a client may stay silent");
    get_str(ctx, *s, "smarthost", "[mail]", m.smarthost, "\"host:port\" of a relay for all outbound mail, or \"\"");
    if (const auto* n = s->get("smarthost"); n && !m.smarthost.empty()) {
      auto colon = m.smarthost.rfind(':');
      bool ok = colon != std::string::npos && colon > 0 && colon + 1 < m.smarthost.size() &&
                m.smarthost.find_first_not_of("0123456789", colon + 1) == std::string::npos && m.smarthost.size() - colon <= 6;
      if (!ok) ctx.fail(*n, "[mail] smarthost must be \"host:port\", e.g. \"relay.tinh.gov.vn:25\"");
    }
    get_str(ctx, *s, "dns_servers", "[mail]", m.dns_servers, "\"ip:port,ip:port\", or \"\" for /etc/resolv.conf");
    get_int(ctx, *s, "outbound_port", "[mail]", m.outbound_port, 1, 65535, "the port of other domains' mail servers (25)");
    get_int(ctx, *s, "bounce_after_h", "[mail]", m.bounce_after_h, 1, 24 * 30, "hours before undeliverable mail is bounced");
    get_str(ctx, *s, "dmarc", "[mail]", m.dmarc, "\"honor\" or \"tag\"");
    get_bool(ctx, *s, "check_inbound", "[mail]", m.check_inbound);
    get_bool(ctx, *s, "imap_plaintext_loopback", "[mail]", m.imap_plaintext_loopback);
    get_int(ctx, *s, "imap_threads", "[mail]", m.imap_threads, 1, 1024, "threads running IMAP commands (32)");
    if (const auto* n = s->get("dmarc"); n && m.dmarc != "honor" && m.dmarc != "tag")
      ctx.fail(*n, "[mail] dmarc must be \"honor\" (refuse or quarantine as the sender's domain asks) or \"tag\" (only record the result)");
  }
  if (auto* s = section(ctx, root, "idp")) {
    check_keys(ctx, *s, "[idp]", {"issuer", "access_token_minutes", "refresh_token_days", "session_hours"});
    auto& i = cfg.idp;
    get_str(ctx, *s, "issuer", "[idp]", i.issuer, "e.g. \"https://sso.tinhmau.gov.vn\"");
    if (const auto* n = s->get("issuer");
        n && !i.issuer.empty() && (i.issuer.rfind("https://", 0) != 0 || i.issuer.back() == '/' || i.issuer.find_first_of("?#") != std::string::npos))
      ctx.fail(*n, "[idp] issuer must be an https:// URL without a trailing slash, query or fragment");
    get_int(ctx, *s, "access_token_minutes", "[idp]", i.access_token_minutes, 1, 1440, "lifetime of access and ID tokens");
    get_int(ctx, *s, "refresh_token_days", "[idp]", i.refresh_token_days, 1, 365, "lifetime of a refresh token family");
    get_int(ctx, *s, "session_hours", "[idp]", i.session_hours, 1, 720, "lifetime of a single sign-on session");
  }
  if (auto* s = section(ctx, root, "ldap")) {
    check_keys(ctx, *s, "[ldap]", {"plaintext_binds", "anonymous", "size_limit", "client_ca"});
    auto& l = cfg.ldap;
    get_bool(ctx, *s, "plaintext_binds", "[ldap]", l.plaintext_binds);
    get_bool(ctx, *s, "anonymous", "[ldap]", l.anonymous);
    get_int(ctx, *s, "size_limit", "[ldap]", l.size_limit, 1, 1000000, "entries a search returns without paging (1000)");
    get_str(ctx, *s, "client_ca", "[ldap]", l.client_ca, "a PEM file, e.g. \"/etc/congvu/client-ca.pem\"");
  }
  if (auto* s = section(ctx, root, "limits")) {
    check_keys(ctx, *s, "[limits]", {"connections", "connections_per_source", "handshake_seconds", "write_seconds",
                                         "pre_auth_seconds", "idle_seconds", "grace_seconds", "proxy_from",
                                         "password_checks"});
    auto& l = cfg.limits;
    get_int(ctx, *s, "connections", "[limits]", l.connections, 1, 1000000, "live connections per listener (20000)");
    get_int(ctx, *s, "connections_per_source", "[limits]", l.connections_per_source, 1, 1000000,
            "live connections per client address; an office of 500 behind one NAT address needs about 2500");
    get_int(ctx, *s, "handshake_seconds", "[limits]", l.handshake_seconds, 1, 600, "a TLS handshake (30)");
    get_int(ctx, *s, "write_seconds", "[limits]", l.write_seconds, 1, 3600, "a write to a slow client (60)");
    get_int(ctx, *s, "pre_auth_seconds", "[limits]", l.pre_auth_seconds, 5, 3600, "each command before login (60)");
    get_int(ctx, *s, "idle_seconds", "[limits]", l.idle_seconds, 60, 86400, "an IMAP client after login (1800)");
    get_int(ctx, *s, "grace_seconds", "[limits]", l.grace_seconds, 0, 3600, "how long a stop lets transactions finish (10)");
    get_str_list(ctx, *s, "proxy_from", "[limits]", l.proxy_from, valid_ip,
                 "a list of IP addresses of load balancers, e.g. [\"10.0.0.5\"]");
    get_int(ctx, *s, "password_checks", "[limits]", l.password_checks, 0, 1024,
            "Argon2id checks that may run at once (0: as many as the cores)");
  }
  if (ctx.error) return *ctx.error;
  return cfg;
}

Result<Config> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::not_found, path + ": cannot read the config file (check the path and permissions)");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path);
}

std::string example_config() {
  return R"(# Congvu configuration. Every setting below shows its default: delete what you do not change.
# Check a file with:  congvu config check FILE

[server]
# Where directory.mdb, the mail store and the local CA live. A backup is a copy of this folder
# (take it with `mdb_copy`, or stop the server first).
data_dir = "./var"
# Event-loop threads; 0 means one per core.
threads = 0
# The name this server gives itself in SMTP greetings and certificates.
hostname = "mail.tinhmau.test"
# Seed the demo province into an empty data folder (same as leaving out --no-demo).
demo = true

[tls]
# PEM files of the server certificate chain and its key. Leave both empty to use a certificate
# issued by the local CA in data_dir/tls (export it for clients with `congvu tls export-ca`).
cert = ""
key = ""

[listen]
# HOST:PORT, "[::1]:PORT" for IPv6, port 0 for any free port, or "off".
smtp = "127.0.0.1:2525"        # inbound mail (MX), STARTTLS
submission = "127.0.0.1:2587"  # clients sending mail, STARTTLS required before AUTH
smtps = "127.0.0.1:2465"       # clients sending mail, implicit TLS
imap = "127.0.0.1:2143"        # STARTTLS
imaps = "127.0.0.1:2993"       # implicit TLS
https = "127.0.0.1:8443"       # identity provider, admin page, SCIM
ldap = "127.0.0.1:3389"        # StartTLS
ldaps = "127.0.0.1:3636"       # implicit TLS

[directory]
# The mail domain of every address (annv@DOMAIN) and role mailbox (sonv@DOMAIN).
domain = "tinhmau.test"
# The largest the LMDB file may grow to, in MiB (address space, not disk, until used).
map_size_mb = 65536
# Members of these groups must sign in with a second factor (TOTP); their mail clients then use
# app passwords or OAUTHBEARER, never the account password. Anyone who enrolled TOTP is treated
# the same way.
second_factor_groups = []
# The mail domains of provinces merged into this one (congvu import --domain): their people keep
# their old addresses as aliases, and mail to those domains is delivered here.
merged_domains = []
# A retired person's mailbox is kept this many years after the retirement date (recorded at
# retirement with the successor, if one is named).
retention_years = 5
# Mail to a retired person goes to the successor named at retirement (while active); without
# one it is refused at RCPT (550 5.1.6) with this text. {unit}: the role address of the unit they
# retired from; {address}: their own. Printable ASCII: it is an SMTP reply line.
retirement_notice = "This member of staff has retired; please write to {unit}"

[directory.argon2]
# Argon2id cost for new passwords. The defaults are OWASP's minimum (19 MiB, 2 passes), about
# 25 ms per hash on a 2-core machine. Raising them re-hashes each password at its next login.
iterations = 2
memory_kib = 19456
parallelism = 1

[directory.role_mailbox]
# Which positions hold each unit's official inbox, per kind of unit.
province = ["Văn thư", "Chủ tịch", "Giám đốc"]
department = ["Văn thư", "Giám đốc"]
district = ["Văn thư", "Chủ tịch", "Giám đốc"]
division = ["Văn thư", "Trưởng phòng"]
commune = ["Công chức Văn phòng - Thống kê", "Chủ tịch UBND xã"]

[mail]
# The largest mail.mdb (the mail index) may grow to, in MiB; message bodies live beside it
# in data_dir/mail/blobs.
map_size_mb = 65536
# The largest message accepted (SMTP SIZE), in MiB.
max_message_mb = 50
# Recipients per message.
max_recipients = 1000
# Mailbox quota per person, and for each unit's official inbox, in MiB.
quota_mb = 2048
unit_quota_mb = 10240
# Seconds a mail client may stay silent before the server hangs up.
command_timeout_s = 300
# Mail to other domains: "host:port" of a relay that takes all of it, or "" to look up each
# domain's MX records (port outbound_port) through dns_servers ("" = /etc/resolv.conf).
smarthost = ""
dns_servers = ""
outbound_port = 25
# Hours to keep retrying before the sender gets a bounce (DSN).
bounce_after_h = 120
# Mail from outside is checked with SPF, DKIM and DMARC and gets an Authentication-Results
# header. "honor": refuse it (550 5.7.1) or put it in Junk when its domain's DMARC policy says
# reject or quarantine and it fails; "tag": only record the result.
dmarc = "honor"
# false: no SPF/DKIM/DMARC checks (when a filtering gateway in front of Congvu already does them).
check_inbound = true
# IMAP LOGIN/AUTHENTICATE without TLS, only for clients on 127.0.0.1/::1 (a webmail on the same
# host); everyone else must use STARTTLS on 2143 or TLS on 2993 (LOGINDISABLED before it).
imap_plaintext_loopback = false
# Threads that run IMAP commands (they wait for disk syncs, so more than cores).
imap_threads = 32

[idp]
# The issuer URL that applications are configured with (discovery lives under it). Empty:
# https://<hostname>:<https port>.
issuer = ""
# Lifetime of access and ID tokens (minutes); applications refresh them.
access_token_minutes = 10
# How long a refresh token family lives (days) before the person must sign in again.
refresh_token_days = 30
# How long a single sign-on session lasts (hours): a working day.
session_hours = 10

[ldap]
# Simple binds over plain LDAP (no StartTLS) send the password in the clear: off. SASL PLAIN
# always needs TLS.
plaintext_binds = false
# Anonymous binds reading the address book: off (an anonymous bind succeeds but reads only the
# root DSE and the schema).
anonymous = false
# The most entries one search returns without the paged results control.
size_limit = 1000
# Client certificates for SASL EXTERNAL are verified against these CAs (PEM). Empty: the
# local CA in data_dir/tls.
client_ca = ""

[limits]
# Live connections per listener, and from one client address. An office of 500 staff behind
# one NAT address, each with a mail client's usual 5 IMAP connections, needs 2 500. Past a cap
# a client gets its protocol's "too many connections" answer (SMTP 421 4.7.0, IMAP BYE
# [UNAVAILABLE], LDAP busy, HTTP 503).
connections = 20000
connections_per_source = 3000
# Deadlines in seconds: a TLS handshake, a write to a client, each command before login (SMTP
# submission, IMAP, LDAP), an IMAP client after login (IDLE included; RFC 9051 asks for 30
# minutes at least). The MX and signed-in SMTP clients wait [mail] command_timeout_s.
handshake_seconds = 30
write_seconds = 60
pre_auth_seconds = 60
idle_seconds = 1800
# On SIGTERM: connections between commands end at once (SMTP 421, IMAP BYE, LDAP notice of
# disconnection); a message or command in progress may finish within this many seconds.
grace_seconds = 10
# Load balancers (haproxy `send-proxy-v2`) in front of every listener: their connections must
# start with a PROXY protocol v2 header, whose client address SPF, the login throttle, the
# caps and the logs then use. A PROXY header from any other address ends the connection.
proxy_from = []
# Password checks (Argon2id) that may run at once; 0 means as many as the machine has cores.
# A check that finds them all busy is answered at once with a temporary error (IMAP NO
# [UNAVAILABLE], SMTP 454 4.7.0, LDAP busy, HTTP 503), so that guessing cannot occupy the
# workers that serve signed-in people; a network that signed in to the account in the last 30
# days is not bounded. Every credential check is also throttled per account and source network
# (see docs/SECURITY.md).
password_checks = 0
)";
}

}  // namespace congvu::config
