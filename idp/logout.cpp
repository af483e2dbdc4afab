#include "idp/logout.hpp"

#include <boost/json.hpp>

#include "common/codec.hpp"
#include "common/crypto.hpp"
#include "common/net/http_client.hpp"
#include "directory/jose.hpp"
#include "idp/saml/saml.hpp"
#include "common/web.hpp"

namespace congvu::idp {

namespace json = boost::json;
using directory::Change;
using directory::Snapshot;

namespace {
constexpr const char* kEvent = "http://schemas.openid.net/event/backchannel-logout";

bool wants(const directory::Client& c, const std::string& event) {
  return !c.backchannel_logout_uri.empty() &&
         std::find(c.logout_events.begin(), c.logout_events.end(), event) != c.logout_events.end();
}

// The lifecycle event an audit action stands for, or "" for the others.
std::string event_of(const std::string& action) {
  if (action == "person.transfer" || action == "person.rotation") return "transfer";
  if (action == "person.suspend") return "suspend";
  if (action == "person.retire") return "retire";
  return "";
}
}  // namespace

Logouts::Logouts(directory::Directory& dir, directory::KeyRing& keys, std::string issuer, Log log, std::string extra_ca)
    : dir_(dir), keys_(keys), issuer_(std::move(issuer)), extra_ca_(std::move(extra_ca)), log_(std::move(log)) {}

Logouts::~Logouts() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

std::string Logouts::logout_token(const directory::Client& client, const SsoSession& s, UnixMs now) {
  json::object o;
  o["iss"] = issuer_;
  o["aud"] = client.id;
  o["iat"] = now / 1000;
  o["exp"] = now / 1000 + 120;
  o["jti"] = new_secret().substr(0, 22);
  o["sub"] = s.person.str();
  o["sid"] = s.sid;
  json::object events;
  events[kEvent] = json::object{};
  o["events"] = std::move(events);
  auto alg = directory::jose::parse_alg(client.id_token_alg).value_or(directory::jose::Alg::RS256);
  auto key = dir_.read([&](Snapshot& snap) { return keys_.active(snap, alg); });
  if (!key) throw std::runtime_error("no active signing key");
  return directory::jose::sign_compact(*key, "logout+jwt", json::serialize(o));
}

void Logouts::send(const directory::Client& client, const SsoSession& s, const std::string& event, UnixMs now) {
  std::string body = "logout_token=" + web::percent_encode(logout_token(client, s, now));
  std::string uri = client.backchannel_logout_uri, id = client.id, sid = s.sid, ca = extra_ca_;
  Log log = log_;
  senders_.post([uri, id, sid, body, event, ca, log] {
    std::string last;
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (attempt) std::this_thread::sleep_for(std::chrono::seconds(attempt == 1 ? 1 : 5));
      auto r = net::http_post(uri, "application/x-www-form-urlencoded", body, std::chrono::seconds(5), ca);
      if (r.status == 200 || r.status == 204) {
        if (log) log("back-channel logout (" + event + ") of session " + sid + " sent to " + id);
        return;
      }
      last = r.status ? "HTTP " + std::to_string(r.status) : r.error;
    }
    if (log) log("back-channel logout (" + event + ") to " + id + " at " + uri + " failed: " + last);
  });
}

void Logouts::post_soap(std::string url, std::string body, std::string who) {
  std::string ca = extra_ca_;
  Log log = log_;
  senders_.post([url, body, who, ca, log] {
    std::string last;
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (attempt) std::this_thread::sleep_for(std::chrono::seconds(attempt == 1 ? 1 : 5));
      auto r = net::http_post(url, "text/xml; charset=utf-8", body, std::chrono::seconds(5), ca);
      if (r.status == 200 && r.body.find("urn:oasis:names:tc:SAML:2.0:status:Success") != std::string::npos) {
        if (log) log("SAML SOAP logout sent to " + who);
        return;
      }
      last = r.status ? "HTTP " + std::to_string(r.status) + " without a Success status" : r.error;
    }
    if (log) log("SAML SOAP logout to " + who + " at " + url + " failed: " + last);
  });
}

void Logouts::session_ended(const SsoSession& s, const std::string& event, UnixMs now) {
  for (const auto& id : s.clients) {
    auto c = dir_.read([&](Snapshot& snap) { return directory::find_client(snap, id); });
    if (c && wants(*c, event)) send(*c, s, event, now);
  }
}

std::size_t Logouts::poll(UnixMs now) {
  struct Notice {
    directory::Client client;
    SsoSession session;
    std::string event;
  };
  std::vector<Notice> notices;
  std::vector<std::pair<SsoSession, std::string>> saml_notices;
  std::size_t touched = 0;
  // Most seconds nothing happened: a read says so without a write transaction.
  bool quiet = dir_.read([&](Snapshot& s) {
    auto stored = s.get_raw(directory::schema::meta, "idp_audit_seq");
    return stored && stored->size() == 8 && codec::get_be64(*stored) >= s.audit_head_seq();
  });
  if (quiet) return 0;
  auto done = dir_.write(directory::Actor{"idp"}, now, [&](Change& c) -> Status {
    auto stored = c.get_raw(directory::schema::meta, "idp_audit_seq");
    std::uint64_t last = stored && stored->size() == 8 ? codec::get_be64(*stored) : c.audit_head_seq();
    auto records = c.audit_after(last, 1000);
    for (const auto& rec : records) {
      last = rec.seq;
      std::string event = event_of(rec.action);
      auto pid = PersonId::parse(rec.target);
      if (event.empty() || !pid) continue;
      for (auto& [key, s] : sessions_of(c, *pid)) {
        ++touched;
        std::vector<std::string> kept;
        for (const auto& id : s.clients) {
          auto client = directory::find_client(c, id);
          if (client && wants(*client, event)) notices.push_back({*client, s, event});
          else kept.push_back(id);
        }
        if (saml_ && !s.saml.empty()) {
          // Participants told by SOAP leave the session (a transfer keeps the SSO session).
          SsoSession told = s;
          told.saml.clear();
          std::vector<SamlParticipant> stay;
          for (const auto& part : s.saml) {
            auto sp = saml::find_sp(c, part.sp);
            bool wanted = sp && sp->slo_for(saml::kBindingSoap) &&
                          std::find(sp->logout_events.begin(), sp->logout_events.end(), event) != sp->logout_events.end();
            (wanted ? told.saml : stay).push_back(part);
          }
          if (!told.saml.empty()) saml_notices.emplace_back(told, event);
          s.saml = stay;
        }
        if (event == "transfer") {
          s.clients = kept;
          store_session(c, key, s);
        } else {
          erase_session(c, key);
        }
      }
    }
    std::string v;
    codec::put_be64(v, last);
    if (!stored || *stored != v) c.put(directory::schema::meta, "idp_audit_seq", v);
    return ok_status();
  });
  if (!done && log_) log_("back-channel logout watcher: " + done.error().message);
  for (const auto& n : notices) send(n.client, n.session, n.event, now);
  for (const auto& [s, event] : saml_notices)
    for (auto& m : saml_->soap_logouts(s, event, now)) post_soap(std::move(m.url), std::move(m.body), std::move(m.sp));
  return touched;
}

void Logouts::start() {
  watcher_ = std::thread([this] {
    std::unique_lock lk(mu_);
    while (!stop_) {
      lk.unlock();
      try {
        poll(system_now_ms());
      } catch (const std::exception& e) {
        if (log_) log_(std::string("back-channel logout watcher: ") + e.what());
      }
      lk.lock();
      cv_.wait_for(lk, std::chrono::seconds(1), [&] { return stop_; });
    }
  });
}

}  // namespace congvu::idp
