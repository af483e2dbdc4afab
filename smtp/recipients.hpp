// What SMTP asks the directory and the mail store: who a recipient is (addresses, aliases,
// groups expanded, units' role mailboxes), whether the sender may post there, and whether a
// signed-in person may use a sender address. Relay policy lives here too: only the local
// domain is ever accepted as a recipient domain, and every address trick is refused with a
// clear code (RFC 5321 source routes, '%' and '!' routing, quoted local parts carrying
// routing, address literals, UTF-8 or unknown local parts).
// Thread-safe: every call runs on its own short read transaction.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "directory/directory.hpp"
#include "mailstore/mailstore.hpp"
#include "smtp/proto/command.hpp"

namespace congvu::smtp {

// An SMTP reply for one RCPT, and on success where the message goes.
struct Verdict {
  int code = 250;
  std::string enhanced = "2.1.5";
  std::string text = "OK";
  std::vector<mailstore::Target> targets;
  bool outbound = false;  // another domain: the message goes to the outbound queue
  bool ok() const { return code / 100 == 2; }
};

class Recipients {
 public:
  Recipients(directory::Directory& dir, mailstore::Mailstore& store) : dir_(dir), store_(store) {}

  bool local_domain(std::string_view domain) const;
  // `sender`: the signed-in person (submission), or nullopt for mail from outside (MX).
  // `size`: the SIZE the client declared (0 if none), checked against the quota.
  Verdict rcpt(const proto::Path& to, const std::optional<directory::Person>& sender, std::uint64_t size);
  // The addresses a person may send as: their own address and aliases, and the role mailbox
  // of a unit whose role they hold now.
  bool may_send_as(const directory::Person& p, std::string_view address);
  // The person a SASL user name (login, address or alias, any case) names.
  std::optional<directory::Person> person(std::string_view login);

  directory::Directory& directory() { return dir_; }
  mailstore::Mailstore& store() { return store_; }

 private:
  // Mail for a retired person: to the successor named at retirement while they are active,
  // else refused (550 5.1.6) with [directory] retirement_notice.
  Verdict retired(directory::Snapshot& s, const directory::Person& p, std::uint64_t size);
  directory::Directory& dir_;
  mailstore::Mailstore& store_;
};

}  // namespace congvu::smtp
