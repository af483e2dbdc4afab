// The configuration of `congvu serve` and the admin commands: one TOML file, every setting
// with a default (so no file at all gives the demo), and errors that name the file, the line
// and the fix. example_config() is the complete commented file (`congvu config example`) and
// parses to exactly the defaults.
// Pure: parse_config() reads no files; load_config() reads one.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace congvu::config {

struct Listen {
  std::string host;     // "127.0.0.1", "::1"; empty when disabled
  std::uint16_t port = 0;  // 0: any free port (see --ready-file)
  bool enabled() const { return !host.empty(); }
};

// [directory]: plain values; directory::Settings is built from them (directory depends on
// config, never the reverse).
struct DirectoryConfig {
  std::string domain = "tinhmau.test";
  std::uint64_t map_size_mb = 65536;
  std::uint32_t argon2_iterations = 2;
  std::uint32_t argon2_memory_kib = 19456;  // 19 MiB: OWASP's Argon2id minimum
  std::uint32_t argon2_parallelism = 1;
  // Members of these groups must sign in with a second factor (TOTP), and their mail clients
  // use app passwords or tokens instead of the account password.
  std::vector<std::string> second_factor_groups;
  // The mail domains of provinces merged into this one (`congvu import --domain`): their people's
  // old addresses are kept as aliases, and mail to them is accepted as local.
  std::vector<std::string> merged_domains;
  std::uint32_t retention_years = 5;  // a retired person's mailbox is kept this long
  // The SMTP reply to mail for a retired person without a successor; {unit} is the role address
  // of the unit they retired from, {address} their own. Printable ASCII (an SMTP reply line).
  std::string retirement_notice = "This member of staff has retired; please write to {unit}";
  // Which positions hold a unit's role mailbox, per unit kind (province, department, ...).
  std::map<std::string, std::vector<std::string>> role_holders = {
      {"province", {"Văn thư", "Chủ tịch", "Giám đốc"}},
      {"department", {"Văn thư", "Giám đốc"}},
      {"district", {"Văn thư", "Chủ tịch", "Giám đốc"}},
      {"division", {"Văn thư", "Trưởng phòng"}},
      {"commune", {"Công chức Văn phòng - Thống kê", "Chủ tịch UBND xã"}},
  };
};

// [mail]: the mail store and SMTP limits.
struct MailConfig {
  std::uint64_t map_size_mb = 65536;        // mail.mdb address space
  std::uint64_t max_message_mb = 50;        // SMTP SIZE and IMAP APPENDLIMIT
  std::uint64_t max_recipients = 1000;      // per message (RFC 5321 asks for at least 100)
  std::uint64_t quota_mb = 2048;            // per person
  std::uint64_t unit_quota_mb = 10240;      // per unit's official inbox
  std::uint64_t command_timeout_s = 300;    // RFC 5321 4.5.3.2: at least 5 minutes
  // Outbound mail to other domains.
  std::string smarthost;        // "host:port": send everything there; empty: MX lookup
  std::string dns_servers;      // "ip:port,ip:port"; empty: /etc/resolv.conf
  std::uint64_t outbound_port = 25;
  std::uint64_t bounce_after_h = 120;  // give up (and bounce) after 5 days
  std::string dmarc = "honor";         // "honor": apply reject/quarantine; "tag": header only
  bool check_inbound = true;           // SPF/DKIM/DMARC of mail from outside
  bool imap_plaintext_loopback = false;  // IMAP login without TLS from 127.0.0.1/::1
  std::uint64_t imap_threads = 32;       // threads running IMAP commands
};

// [idp]: the OpenID Connect provider.
struct IdpConfig {
  std::string issuer;  // "https://host[:port]"; empty: https://<hostname>:<https port>
  std::uint64_t access_token_minutes = 10;
  std::uint64_t refresh_token_days = 30;
  std::uint64_t session_hours = 10;
};

// [ldap]: the LDAP front end (directory/ldap).
struct LdapConfig {
  bool plaintext_binds = false;  // simple binds without TLS (never for SASL PLAIN)
  bool anonymous = false;        // anonymous binds read the address book
  std::uint64_t size_limit = 1000;  // entries per search without the paged results control
  std::string client_ca;  // PEM of the CAs whose client certificates SASL EXTERNAL accepts; empty: the local CA
};

// [limits]: connection caps, per-operation deadlines, the graceful stop, load balancers.
struct LimitsConfig {
  std::uint64_t connections = 20000;             // live connections per listener
  std::uint64_t connections_per_source = 3000;   // per client address (an office behind one NAT)
  std::uint64_t handshake_seconds = 30;
  std::uint64_t write_seconds = 60;
  std::uint64_t pre_auth_seconds = 60;           // each command before login
  std::uint64_t idle_seconds = 1800;             // IMAP after login, IDLE (RFC 9051: >= 30 min)
  std::uint64_t grace_seconds = 10;              // a stop lets transactions finish this long
  std::vector<std::string> proxy_from;           // balancers sending PROXY protocol v2 headers
  std::uint64_t password_checks = 0;             // Argon2id checks at once; 0: the number of cores
};

struct Config {
  std::string source = "(built-in defaults)";
  // [server]
  std::string data_dir = "./var";
  unsigned threads = 0;  // 0: one per core
  std::string hostname = "mail.tinhmau.test";
  bool demo = true;
  // [tls]
  std::string cert_file, key_file;  // empty: a certificate from the local CA under data_dir/tls
  // [listen]
  std::map<std::string, Listen> listen;
  DirectoryConfig directory;
  MailConfig mail;
  IdpConfig idp;
  LdapConfig ldap;
  LimitsConfig limits;

  Config();
  // The listener names, in the order they are documented.
  static const std::vector<std::string>& listener_names();
};

Result<Config> parse_config(std::string_view text, const std::string& file_name);
Result<Config> load_config(const std::string& path);
std::string example_config();

// "127.0.0.1:2525", "[::1]:0", or "off".
Result<Listen> parse_listen(std::string_view s);

}  // namespace congvu::config
