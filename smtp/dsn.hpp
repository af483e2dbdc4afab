// Delivery status notifications (RFC 3464, RFC 3461): the bounce a sender gets when outbound
// mail could not be delivered. A multipart/report with a human part in Vietnamese and English,
// the machine-readable message/delivery-status part, and the original message's header (or
// the whole message with RET=FULL). Pure.
#pragma once

#include <string>
#include <vector>

#include "common/time.hpp"
#include "mailstore/model.hpp"

namespace congvu::smtp {

struct DsnInput {
  // RFC 3464 Action for every recipient listed: "failed" (a bounce), "delayed" (still trying),
  // "delivered" (NOTIFY=SUCCESS, delivered here) or "relayed".
  std::string action = "failed";
  std::string reporting_mta;  // our hostname
  std::string postmaster;     // MAILER-DAEMON@domain
  std::string sender;         // who gets the report
  std::string envid;
  bool ret_full = false;
  UnixMs arrival = 0, now = 0;
  std::string message_id;     // for the report itself
  std::vector<mailstore::OutboundRecipient> failed;  // the recipients reported, with last_reply
  std::string remote_mta;     // the last server tried, may be empty
  std::string original;       // the message as queued
};

std::string build_dsn(const DsnInput& in);
// "5.1.1" from a reply text like "550 5.1.1 No such user", or the class default (5.0.0/4.0.0).
std::string status_of(const std::string& reply);

}  // namespace congvu::smtp
