#include "smtp/dsn.hpp"

#include <cctype>

#include "common/crypto.hpp"
#include "smtp/proto/header.hpp"

namespace congvu::smtp {

std::string status_of(const std::string& reply) {
  // The enhanced code follows the basic code: "550 5.1.1 ...".
  auto sp = reply.find(' ');
  if (sp != std::string::npos) {
    std::string_view rest(reply);
    rest.remove_prefix(sp + 1);
    auto end = rest.find(' ');
    std::string_view code = rest.substr(0, end);
    int dots = 0;
    bool ok = !code.empty() && (code[0] == '2' || code[0] == '4' || code[0] == '5');
    for (char c : code) {
      if (c == '.') ++dots;
      else if (!std::isdigit(static_cast<unsigned char>(c))) ok = false;
    }
    if (ok && dots == 2) return std::string(code);
  }
  return !reply.empty() && reply[0] == '4' ? "4.0.0" : "5.0.0";
}

std::string build_dsn(const DsnInput& in) {
  std::string boundary = "=_congvu_dsn_" + crypto::hex(crypto::random_string(8));
  std::string date = rfc5322_date(in.now);
  std::string m;
  m += "From: Mail Delivery System <" + in.postmaster + ">\r\n";
  m += "To: <" + in.sender + ">\r\n";
  bool failed = in.action == "failed";
  std::string subject_vi = failed ? "Thư không gửi được" : in.action == "delayed" ? "Thư đang chờ gửi" : "Thư đã được chuyển";
  std::string subject_en = failed ? "Undelivered Mail Returned to Sender"
                           : in.action == "delayed" ? "Delayed Mail (still being retried)"
                                                     : "Successful Mail Delivery Report";
  m += "Subject: =?UTF-8?B?" + crypto::base64_encode(subject_vi) + "?= (" + subject_en + ")\r\n";
  m += "Date: " + date + "\r\n";
  m += "Message-ID: <" + in.message_id + ">\r\n";
  m += "Auto-Submitted: auto-replied\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"" + boundary + "\"\r\n\r\n";
  m += "--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n";
  if (failed) {
    m += "Thư của bạn không gửi được tới những người nhận dưới đây.\r\n";
    m += "Your message could not be delivered to the recipients below.\r\n\r\n";
  } else if (in.action == "delayed") {
    m += "Thư của bạn chưa gửi được tới những người nhận dưới đây; hệ thống vẫn đang thử lại.\r\n";
    m += "Your message has not been delivered to the recipients below yet; delivery is being retried.\r\n\r\n";
  } else {
    m += "Thư của bạn đã được chuyển tới những người nhận dưới đây.\r\n";
    m += "Your message was delivered to the recipients below.\r\n\r\n";
  }
  for (const auto& r : in.failed) m += "  <" + r.address + ">: " + r.last_reply + "\r\n";
  m += "\r\n--" + boundary + "\r\nContent-Type: message/delivery-status\r\n\r\n";
  m += "Reporting-MTA: dns; " + in.reporting_mta + "\r\n";
  if (!in.envid.empty()) m += "Original-Envelope-Id: " + in.envid + "\r\n";
  m += "Arrival-Date: " + rfc5322_date(in.arrival) + "\r\n";
  for (const auto& r : in.failed) {
    m += "\r\nFinal-Recipient: rfc822; " + r.address + "\r\n";
    if (!r.orcpt.empty()) m += "Original-Recipient: " + r.orcpt + "\r\n";
    m += "Action: " + in.action + "\r\nStatus: " + (failed || in.action == "delayed" ? status_of(r.last_reply) : "2.0.0") + "\r\n";
    if (!in.remote_mta.empty()) m += "Remote-MTA: dns; " + in.remote_mta + "\r\n";
    // Diagnostic-Code carries the remote reply when there was one (a reply starts with a digit).
    if (!r.last_reply.empty() && std::isdigit(static_cast<unsigned char>(r.last_reply[0])))
      m += "Diagnostic-Code: smtp; " + r.last_reply + "\r\n";
    m += "Last-Attempt-Date: " + date + "\r\n";
  }
  auto headers = proto::parse_header_section(in.original);
  std::size_t head_end = headers ? headers->body_offset : in.original.size();
  if (in.ret_full) {
    m += "\r\n--" + boundary + "\r\nContent-Type: message/rfc822\r\n\r\n" + in.original;
  } else {
    std::string head = in.original.substr(0, head_end);
    m += "\r\n--" + boundary + "\r\nContent-Type: text/rfc822-headers\r\n\r\n" + head;
  }
  if (m.size() < 2 || m.compare(m.size() - 2, 2, "\r\n") != 0) m += "\r\n";
  m += "--" + boundary + "--\r\n";
  return m;
}

}  // namespace congvu::smtp
