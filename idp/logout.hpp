// OpenID Connect Back-Channel Logout 1.0: logout tokens POSTed to the relying parties that
// asked for them (client backchannel_logout_uri, per client `logout_events`):
//  - when a person signs out of Congvu (session_ended, from the provider);
//  - when a person is suspended, retired or transferred, by whatever wrote it (the CLI, SCIM,
//    an events file): a watcher reads the audit log every second from the last record it
//    handled (kept in the meta table as "idp_audit_seq", so a restart misses nothing). Suspension
//    and retirement end the person's SSO sessions; a transfer ends the applications' sessions,
//    so that their next login carries the new unit, and keeps the SSO session.
// SAML SPs of the session registered for the event get a SOAP LogoutRequest (idp/saml).
// Deliveries run on two sender threads, three attempts each (0, 1 and 5 s), and are logged.
// Thread-safe; the destructor stops the watcher and finishes queued deliveries.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/workers.hpp"
#include "directory/clients.hpp"
#include "directory/directory.hpp"
#include "directory/keys.hpp"
#include "idp/store.hpp"

namespace congvu::idp {
namespace saml {
class Idp;
}

class Logouts {
 public:
  using Log = std::function<void(const std::string&)>;
  Logouts(directory::Directory& dir, directory::KeyRing& keys, std::string issuer, Log log,
          std::string extra_ca_file = {});
  ~Logouts();

  // Sends logout tokens for `s` to its clients that want `event` ("logout").
  void session_ended(const SsoSession& s, const std::string& event, UnixMs now);
  // Starts the audit-log watcher thread.
  void start();
  // One pass of the watcher: handles the audit records written since the last pass; returns
  // how many sessions it touched.
  std::size_t poll(UnixMs now);
  // The logout token for `client` about session `s` (signed with the client's ID token key).
  std::string logout_token(const directory::Client& client, const SsoSession& s, UnixMs now);
  // SAML: lifecycle events also send SOAP LogoutRequests to the SAML SPs registered for them.
  void set_saml(saml::Idp* idp) { saml_ = idp; }
  // POSTs a SOAP envelope (SAML SOAP binding) on a sender thread, three attempts, logged.
  void post_soap(std::string url, std::string body, std::string who);

 private:
  void send(const directory::Client& client, const SsoSession& s, const std::string& event, UnixMs now);
  directory::Directory& dir_;
  directory::KeyRing& keys_;
  std::string issuer_, extra_ca_;
  Log log_;
  saml::Idp* saml_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread watcher_;
  Workers senders_{2};
};

}  // namespace congvu::idp
