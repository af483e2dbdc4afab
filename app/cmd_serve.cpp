// `congvu serve`: opens the data folder, seeds the demo province into an empty one, makes sure
// TLS material exists, starts every listener whose service exists, writes --ready-file once
// they are all bound, and runs until SIGTERM/SIGINT (exit 0 after a graceful stop).
//
// SECURITY: listeners default to loopback; TLS 1.2+ only; the local CA key stays in
// data_dir/tls with mode 0600.
#include <sys/resource.h>
#include <csignal>
#include <unistd.h>

#include <filesystem>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <fstream>
#include <iostream>

#include "app/commands.hpp"
#include "app/reorg_mail.hpp"
#include "app/retention.hpp"
#include "app/router.hpp"
#include "common/crypto.hpp"
#include "common/files.hpp"
#include "common/json.hpp"
#include "common/net/https_server.hpp"
#include "common/net/runtime.hpp"
#include "common/net/tls.hpp"
#include "directory/demo.hpp"
#include "directory/hr.hpp"
#include "directory/ldap/server.hpp"
#include "directory/throttle.hpp"
#include "idp/logout.hpp"
#include "idp/store.hpp"
#include "mailstore/mailstore.hpp"
#include "imap/server.hpp"
#include "smtp/outbound.hpp"
#include "smtp/server.hpp"


namespace congvu::app {

namespace {

void log_line(const std::string& msg) { std::cerr << rfc3339(system_now_ms()) << " congvu: " << msg << std::endl; }

}  // namespace

int cmd_serve(const Argv& argv) {
  // OpenSSL writes to sockets with write(2): a peer that went away must give EPIPE, not kill
  // the server.
  std::signal(SIGPIPE, SIG_IGN);
  Args a(argv, {"--config", "--data", "--ready-file"}, {"--no-demo"});
  a.max_positionals(0);
  config::Config cfg = load_env_config(a);
  bool demo = cfg.demo && !a.flag("--no-demo");
  auto store = directory::open_store(cfg.data_dir, cfg.directory.map_size_mb);
  kv::GroupCommitter committer(*store);
  directory::Directory dir(*store, directory::Settings(cfg.directory), &committer);
  UnixMs now = system_now_ms();

  if (demo && dir.read([](directory::Snapshot& s) { return s.count_units() == 0; })) {
    auto r = dir.write(directory::Actor{"system:demo"}, now,
                       [&](directory::Change& c) { return directory::seed_demo(c, vn_date(now)); });
    if (!r) throw std::runtime_error("cannot seed the demo province: " + r.error().message);
    log_line("seeded the demo province into " + cfg.data_dir + ": 10 units, 20 people, password '" +
             directory::kDemoPassword + "' (e.g. annv@" + cfg.directory.domain + ")");
  }

  auto local = net::ensure_local_ca(cfg.data_dir + "/tls", cfg.hostname);
  std::string cert = cfg.cert_file.empty() ? local.cert_chain : cfg.cert_file;
  std::string key = cfg.key_file.empty() ? local.key : cfg.key_file;
  auto tls = net::make_server_tls(cert, key);

  // Thousands of idle IMAP connections need as many descriptors: the soft limit goes up to the
  // hard one.
  if (rlimit lim{}; getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  // The runtime outlives the mail store: the store's committer finishes queued deliveries
  // (and posts their completions to the runtime's contexts) when it is destroyed first.
  net::Runtime rt(cfg.threads, log_line);
  // [limits]: the caps of every listener and the deadlines of every connection.
  net::ListenerLimits limits;
  limits.max_connections = cfg.limits.connections;
  limits.max_per_source = cfg.limits.connections_per_source;
  for (const auto& a : cfg.limits.proxy_from) limits.proxy_from.push_back(boost::asio::ip::make_address(a));
  limits.proxy_header_timeout = std::chrono::seconds(cfg.limits.handshake_seconds);
  net::Deadlines deadlines;
  deadlines.handshake = std::chrono::seconds(cfg.limits.handshake_seconds);
  deadlines.write = std::chrono::seconds(cfg.limits.write_seconds);
  deadlines.pre_auth = std::chrono::seconds(cfg.limits.pre_auth_seconds);
  deadlines.command = std::chrono::seconds(cfg.mail.command_timeout_s);
  deadlines.idle = std::chrono::seconds(cfg.limits.idle_seconds);
  // Blocking work: Argon2id (CPU) and DNS for SPF/DKIM/DMARC and MX (waiting): more threads than cores.
  Workers workers(std::max(4u, 2 * std::thread::hardware_concurrency()));
  mailstore::Settings mail_settings;
  mail_settings.person_quota_bytes = cfg.mail.quota_mb << 20;
  mail_settings.unit_quota_bytes = cfg.mail.unit_quota_mb << 20;
  auto mail = mailstore::open(cfg.data_dir, cfg.mail.map_size_mb, mail_settings);
  smtp::Recipients recipients(dir, *mail.store);
  // DKIM: one RSA and one Ed25519 key for the mail domain, made on first start.
  std::string dkim_dir = cfg.data_dir + "/dkim";
  const std::string& domain = cfg.directory.domain;
  if (smtp::DkimSigner::load(dkim_dir, domain).empty()) {
    std::string month = vn_date(now).substr(0, 7);
    month.erase(4, 1);
    for (auto alg : {smtp::DkimAlgorithm::rsa_sha256, smtp::DkimAlgorithm::ed25519_sha256}) {
      auto k = smtp::generate_dkim_key(dkim_dir, domain, std::string(alg == smtp::DkimAlgorithm::rsa_sha256 ? "cv-rsa-" : "cv-ed-") + month, alg);
      log_line("made DKIM key " + k.path + "; publish: " + k.dns_name + " TXT \"" + k.dns_txt + "\"");
    }
  }
  auto dkim = smtp::DkimSigner::load(dkim_dir, domain);
  // One throttle for every credential check (IMAP, SMTP, LDAP, the IdP's pages, client
  // secrets), and a bound on the Argon2id checks that run at once.
  auto throttle = std::make_shared<directory::LoginThrottle>(log_line);
  dir.set_hash_slots(cfg.limits.password_checks > 0 ? static_cast<unsigned>(cfg.limits.password_checks)
                                                    : std::max(1u, std::thread::hardware_concurrency()));
  auto smtp_ctx = std::make_shared<smtp::ServerContext>(
      smtp::ServerContext{recipients, tls, workers, std::chrono::seconds(cfg.mail.command_timeout_s), &dkim,
                          std::make_shared<smtp::Resolver>(cfg.mail.dns_servers), deadlines, log_line, throttle});
  smtp::OutboundConfig out_cfg;
  out_cfg.hostname = cfg.hostname;
  out_cfg.smarthost = cfg.mail.smarthost;
  out_cfg.dns_servers = cfg.mail.dns_servers;
  out_cfg.port = static_cast<std::uint16_t>(cfg.mail.outbound_port);
  out_cfg.give_up = std::chrono::hours(cfg.mail.bounce_after_h);
  smtp::Outbound outbound(rt, recipients, workers, out_cfg);
  outbound.start();
  // IMAP commands wait for group commits and Argon2id: their own pool, larger than the cores.
  Workers imap_workers(static_cast<unsigned>(cfg.mail.imap_threads));
  auto imap_ctx = std::make_shared<imap::ServerContext>(imap::ServerContext{dir, *mail.store, tls, imap_workers, deadlines, log_line, throttle});
  std::vector<std::pair<std::string, std::uint16_t>> ports;
  // Filled once every listener is bound (requests arrive only after rt.run()).
  auto mail_endpoints = std::make_shared<MailEndpoints>();
  auto web_services = std::make_shared<WebServices>();
  std::unique_ptr<idp::Logouts> logouts;  // back-channel logout; stopped before the directory goes
  // Token signing keys: made on the first start, encrypted under data_dir/secrets.
  std::string key_passphrase = directory::load_or_make_key_passphrase(cfg.data_dir);
  directory::KeyRing keys(key_passphrase);
  {
    auto made = dir.write(directory::Actor{"system:keys"}, now, [&](directory::Change& c) -> Result<bool> { return keys.ensure(c); });
    if (!made) throw std::runtime_error("cannot create the token signing keys: " + made.error().message);
    if (*made) log_line("made the token signing keys (RS256, ES256, EdDSA); `congvu keys rotate` replaces them");
  }
  // The login page hashes passwords and every IdP write waits for a durable commit.
  Workers web_workers(std::max(4u, 2 * std::thread::hardware_concurrency()));
  std::unique_ptr<directory::ldap::Dit> dit;
  std::shared_ptr<directory::ldap::ServerContext> ldap_ctx;
  mail_endpoints->domain = cfg.directory.domain;
  mail_endpoints->hostname = cfg.hostname;
  // Listeners with a fixed port are bound first: a port-0 listener's ephemeral port can then
  // never be the one another listener was configured with.
  std::vector<std::string> order;
  for (bool fixed : {true, false})
    for (const auto& name : config::Config::listener_names())
      if ((cfg.listen.at(name).port != 0) == fixed) order.push_back(name);
  for (const auto& name : order) {
    const auto& l = cfg.listen.at(name);
    if (!l.enabled()) continue;
    if (name == "https") {
      auto& lis = net::listen_https(rt, l.host, l.port, tls, make_router(dir, mail_endpoints, web_services), &web_workers,
                                   limits, deadlines, log_line);
      ports.emplace_back(name, lis.port());
      log_line("https listening on " + l.host + ":" + std::to_string(lis.port()));
    }
    if (name == "smtp" || name == "submission" || name == "smtps") {
      smtp::SessionConfig sc;
      sc.kind = name == "smtp" ? smtp::Listener::mx : name == "submission" ? smtp::Listener::submission : smtp::Listener::submissions;
      sc.hostname = cfg.hostname;
      sc.max_message_bytes = cfg.mail.max_message_mb << 20;
      sc.max_recipients = cfg.mail.max_recipients;
      sc.honor_dmarc = cfg.mail.dmarc == "honor";
      sc.check_inbound = cfg.mail.check_inbound;
      auto& lis = smtp::listen_smtp(rt, l.host, l.port, sc, smtp_ctx, limits);
      ports.emplace_back(name, lis.port());
      log_line(name + " listening on " + l.host + ":" + std::to_string(lis.port()));
    }
    if (name == "imap" || name == "imaps") {
      imap::SessionConfig ic;
      ic.hostname = cfg.hostname;
      ic.max_message_bytes = cfg.mail.max_message_mb << 20;
      ic.plaintext_ok = cfg.mail.imap_plaintext_loopback;
      auto& lis = imap::listen_imap(rt, l.host, l.port, ic, name == "imaps", imap_ctx, limits);
      ports.emplace_back(name, lis.port());
      log_line(name + " listening on " + l.host + ":" + std::to_string(lis.port()));
    }
    if (name == "ldap" || name == "ldaps") {
      if (!ldap_ctx) {
        directory::ldap::DitConfig dc;
        dc.domain = cfg.directory.domain;
        dc.size_limit = cfg.ldap.size_limit;
        dit = std::make_unique<directory::ldap::Dit>(dir, dc);
        auto ldap_tls = directory::ldap::make_ldap_tls(cert, key, cfg.ldap.client_ca.empty() ? local.ca_cert : cfg.ldap.client_ca);
        ldap_ctx = std::make_shared<directory::ldap::ServerContext>(
            directory::ldap::ServerContext{dir, *dit, throttle, ldap_tls, workers, log_line,
                                           std::chrono::seconds(15 * 60), deadlines});
        log_line("LDAP base " + dit->base_dn() + ": " + std::to_string(dit->people()) + " people");
      }
      directory::ldap::SessionConfig lc;
      lc.hostname = cfg.hostname;
      lc.plaintext_binds = cfg.ldap.plaintext_binds;
      lc.anonymous = cfg.ldap.anonymous;
      auto& lis = directory::ldap::listen_ldap(rt, l.host, l.port, lc, name == "ldaps", ldap_ctx, limits);
      ports.emplace_back(name, lis.port());
      log_line(name + " listening on " + l.host + ":" + std::to_string(lis.port()));
    }
  }

  for (const auto& [name, port] : ports) {
    if (name == "imaps") mail_endpoints->imaps = port;
    if (name == "imap") mail_endpoints->imap = port;
    if (name == "smtps") mail_endpoints->smtps = port;
    if (name == "submission") mail_endpoints->submission = port;
    if (name == "https") {
      idp::ProviderConfig pc;
      pc.issuer = cfg.idp.issuer.empty() ? "https://" + cfg.hostname + (port == 443 ? "" : ":" + std::to_string(port))
                                         : cfg.idp.issuer;
      pc.access_ttl = pc.id_ttl = static_cast<UnixMs>(cfg.idp.access_token_minutes) * 60 * 1000;
      pc.refresh_ttl = static_cast<UnixMs>(cfg.idp.refresh_token_days) * 24 * 3600 * 1000;
      pc.session_ttl = static_cast<UnixMs>(cfg.idp.session_hours) * 3600 * 1000;
      pc.csrf_key = crypto::sha256_raw("congvu csrf\n" + key_passphrase);
      pc.factor_key = crypto::sha256_raw("congvu totp\n" + key_passphrase);
      log_line("OpenID Connect issuer " + pc.issuer);
      dir.enable_tokens(&keys, pc.issuer);
      web_services->idp = std::make_unique<idp::Provider>(dir, keys, pc);
      web_services->idp->set_throttle(throttle);
      logouts = std::make_unique<idp::Logouts>(dir, keys, pc.issuer, log_line);
      web_services->idp->set_logouts(logouts.get());
      // SAML: its own RSA key and certificate (data_dir/saml), the same login and session.
      auto saml_key = idp::saml::SigningKey::load_or_make(cfg.data_dir + "/saml", key_passphrase, pc.issuer);
      if (!saml_key) throw std::runtime_error(saml_key.error().message);
      idp::saml::Config sc;
      sc.base = pc.issuer;
      sc.seal_key = crypto::sha256_raw("congvu saml\n" + key_passphrase);
      web_services->saml = std::make_unique<idp::saml::Idp>(dir, std::move(*saml_key), sc, log_line);
      web_services->saml->set_logouts(logouts.get());
      web_services->idp->set_saml(web_services->saml.get());
      logouts->set_saml(web_services->saml.get());
      log_line("SAML 2.0 IdP " + web_services->saml->entity_id());
      web_services->scim = std::make_unique<directory::scim::Service>(dir, pc.issuer);
      log_line("SCIM 2.0 at " + pc.issuer + "/scim/v2");
      if (auto st = admin::Console::register_client(dir, pc.issuer, system_now_ms()); !st)
        throw std::runtime_error("the admin console's OIDC client: " + st.error().message);
      admin::ConsoleConfig ac;
      ac.issuer = pc.issuer;
      ac.csrf_key = crypto::sha256_raw("congvu admin\n" + key_passphrase);
      web_services->admin = std::make_unique<admin::Console>(dir, *web_services->idp, ac);
      log_line("admin console at " + pc.issuer + "/admin");
      logouts->start();
    }
  }
  // Signals are caught before anyone is told the server is ready (a SIGTERM right after the
  // ready file is a graceful stop, not the default action).
  rt.catch_signals(std::chrono::seconds(cfg.limits.grace_seconds));
  if (a.has("--ready-file")) {
    std::string json = "{\"pid\":" + std::to_string(getpid()) + ",\"ports\":{";
    for (std::size_t i = 0; i < ports.size(); ++i)
      json += (i ? "," : "") + json_quote(ports[i].first) + ":" + std::to_string(ports[i].second);
    json += "},\"ca\":" + json_quote(std::filesystem::absolute(local.ca_cert).string()) +
            ",\"data_dir\":" + json_quote(std::filesystem::absolute(cfg.data_dir).string()) + "}\n";
    write_file_atomic(a.get("--ready-file"), json);
  }
  // Scheduled changes and pending events: what is due now, then every minute (and whenever the
  // calendar day changes in Asia/Ho_Chi_Minh, within a minute); and retired people's mailboxes
  // whose retention period has ended (app/retention.hpp); the role mail of units dissolved by a
  // reorganisation that has not moved yet (app/reorg_mail.hpp).
  std::mutex due_mu;
  std::condition_variable due_cv;
  bool stopping = false;
  auto run_due_now = [&] {
    UnixMs t = system_now_ms();
    auto rep = directory::run_due(dir, vn_date(t), t);
    if (rep.applied) log_line("applied " + std::to_string(rep.applied) + " scheduled changes due by " + vn_date(t));
    for (const auto& [n, why] : rep.failed) log_line("scheduled change " + std::to_string(n) + " dropped: " + why);
    auto purged = purge_retired(dir, *mail.store, vn_date(t), t, false);
    for (const auto& p : purged.people)
      log_line("retention ended for " + p.address + " (kept until " + p.keep_until + "): " + std::to_string(p.messages) +
               " messages removed");
    for (const auto& f : purged.failed) log_line("retention: " + f);
    auto moved = move_role_mail(dir, *mail.store, t);
    for (const auto& m : moved.moved)
      log_line("reorganisation: " + std::to_string(m.messages) + " messages of unit " + m.from_unit + " moved to " + m.to_unit + " (" + m.folder + ")");
    for (const auto& f : moved.failed) log_line("reorganisation: role mail not moved: " + f);
    // Expired SSO sessions, codes, refresh tokens, revocations and SAML records.
    if (auto swept = idp::sweep_expired(dir, t)) log_line("swept " + std::to_string(swept) + " expired sign-in records");
  };
  run_due_now();
  std::thread scheduler([&] {
    std::unique_lock lock(due_mu);
    while (!due_cv.wait_for(lock, std::chrono::seconds(60), [&] { return stopping; })) {
      lock.unlock();
      try {
        run_due_now();
      } catch (const std::exception& e) {
        log_line(std::string("scheduler: ") + e.what());
      }
      lock.lock();
    }
  });
  log_line("ready (data in " + cfg.data_dir + ")");
  rt.run(true, std::chrono::seconds(cfg.limits.grace_seconds));
  {
    std::lock_guard lock(due_mu);
    stopping = true;
  }
  due_cv.notify_all();
  scheduler.join();
  log_line("mail store: " + std::to_string(mail.store->committer().jobs()) + " writes in " +
           std::to_string(mail.store->committer().commits()) + " commits, " + std::to_string(mail.blobs->syncs()) +
           " blob syncs");
  log_line("stopped");
  return 0;
}

int cmd_config(const Argv& argv) {
  Args a(argv, {}, {});
  std::string sub = a.positional(0, "a subcommand: example, check FILE");
  if (sub == "example") {
    a.max_positionals(1);
    std::cout << config::example_config();
    return 0;
  }
  if (sub == "check") {
    a.max_positionals(2);
    auto r = config::load_config(a.positional(1, "the config FILE"));
    if (!r) {
      std::cerr << "congvu: " << r.error().message << "\n";
      return 1;
    }
    std::cout << r->source << ": ok\n";
    return 0;
  }
  throw UsageError("unknown config subcommand '" + sub + "'");
}

int cmd_tls(const Argv& argv) {
  Args a(argv, {"--config", "--data"}, {});
  std::string sub = a.positional(0, "a subcommand: export-ca");
  if (sub != "export-ca") throw UsageError("unknown tls subcommand '" + sub + "'");
  a.max_positionals(1);
  config::Config cfg = load_env_config(a);
  auto files = net::ensure_local_ca(cfg.data_dir + "/tls", cfg.hostname);
  std::ifstream in(files.ca_cert, std::ios::binary);
  std::cout << in.rdbuf();
  return 0;
}

}  // namespace congvu::app
