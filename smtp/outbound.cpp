#include "smtp/outbound.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <algorithm>
#include <iostream>
#include <map>
#include <mutex>
#include <set>

#include "common/ids.hpp"
#include "common/text.hpp"
#include "common/net/completion.hpp"
#include "smtp/dsn.hpp"
#include "smtp/proto/reply.hpp"

namespace congvu::smtp {

using net::Completion;

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using asio::use_awaitable;
using net::tcp;
constexpr auto kTuple = asio::as_tuple(use_awaitable);
using Rcpt = mailstore::OutboundRecipient;

// SMTPUTF8 is needed for an address that is not ASCII.
bool non_ascii(std::string_view a) {
  return std::any_of(a.begin(), a.end(), [](char ch) { return static_cast<unsigned char>(ch) >= 0x80; });
}

// A reply as the queue records it: "250 text".
std::string fmt(const proto::Reply& rep) { return std::to_string(rep.code) + " " + rep.text(); }

std::string domain_of(const std::string& address) {
  auto at = address.rfind('@');
  return at == std::string::npos ? std::string() : text::ascii_lower(address.substr(at + 1));
}

// One SMTP client connection (plain, then TLS after STARTTLS).
class Client {
 public:
  Client(tcp::socket s, ssl::context& tls, std::chrono::seconds timeout) : stream_(std::move(s), tls), timeout_(timeout) {}

  asio::awaitable<std::optional<proto::Reply>> reply(std::chrono::seconds timeout) {
    for (;;) {
      auto ev = reader_.next();
      if (auto* r = std::get_if<proto::Reply>(&ev)) co_return std::move(*r);
      if (std::holds_alternative<proto::Error>(ev)) co_return std::nullopt;
      beast::get_lowest_layer(stream_).expires_after(timeout);
      auto [ec, n] = tls_ ? co_await stream_.async_read_some(asio::buffer(buf_), kTuple)
                          : co_await stream_.next_layer().async_read_some(asio::buffer(buf_), kTuple);
      if (ec) co_return std::nullopt;
      reader_.feed(std::string_view(buf_.data(), n));
    }
  }

  // Coroutine parameters are values (or views of the caller's named objects, awaited at once):
  // .clang-tidy forbids references that might not outlive a co_await.
  asio::awaitable<std::optional<proto::Reply>> command(std::string line) {
    const std::string wire = line + "\r\n";
    if (!co_await send(wire)) co_return std::nullopt;
    co_return co_await reply(timeout_);
  }

  asio::awaitable<bool> send(std::string_view bytes) {
    beast::get_lowest_layer(stream_).expires_after(timeout_);
    auto [ec, n] = tls_ ? co_await asio::async_write(stream_, asio::buffer(bytes), kTuple)
                        : co_await asio::async_write(stream_.next_layer(), asio::buffer(bytes), kTuple);
    co_return !ec;
  }

  asio::awaitable<bool> starttls(std::string host) {
    SSL_set_tlsext_host_name(stream_.native_handle(), host.c_str());
    beast::get_lowest_layer(stream_).expires_after(timeout_);
    auto [ec] = co_await stream_.async_handshake(ssl::stream_base::client, kTuple);
    if (ec) co_return false;
    tls_ = true;
    co_return true;
  }

  void close() {
    boost::system::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(stream_).close();
  }

 private:
  beast::ssl_stream<beast::tcp_stream> stream_;
  std::chrono::seconds timeout_;
  proto::ReplyReader reader_;
  std::array<char, 4096> buf_;
  bool tls_ = false;
};

// What one connection attempt to one server achieved.
struct Conversation {
  bool reached = false;             // a server answered MAIL (so do not try further hosts)
  std::string failure;              // why not, when !reached: "4.4.1 ..." text for the queue
  std::vector<std::string> replies; // per recipient: the final reply text ("250 ...", "550 ...")
};

}  // namespace

std::chrono::seconds retry_delay(const OutboundConfig& cfg, std::uint32_t attempts) {
  if (cfg.retry.empty()) return std::chrono::seconds(3600);
  return cfg.retry[std::min<std::size_t>(attempts == 0 ? 0 : attempts - 1, cfg.retry.size() - 1)];
}

struct Outbound::Impl : std::enable_shared_from_this<Impl> {
  Impl(net::Runtime& r, Recipients& rc, Workers& w, OutboundConfig c)
      : rt(r), recipients(rc), workers(w), cfg(std::move(c)), resolver(cfg.dns_servers) {
    tls.set_verify_mode(ssl::verify_none);  // opportunistic TLS (RFC 7435): encrypt, do not authenticate
    SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  }

  net::Runtime& rt;
  Recipients& recipients;
  Workers& workers;
  OutboundConfig cfg;
  Resolver resolver;
  ssl::context tls{ssl::context::tls_client};
  mutable std::mutex mu;
  std::set<std::uint64_t> inflight;
  bool stopping = false;

  // What runs when an attempt ends (a plain function, not inside a coroutine: clang-tidy 16
  // takes lambdas written in a coroutine for coroutines).
  std::function<void(std::exception_ptr)> finished(std::uint64_t id) {
    return [self = shared_from_this(), id](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          std::cerr << rfc3339(system_now_ms()) << " congvu: outbound attempt failed: " << x.what() << std::endl;
        }
      }
      std::lock_guard lk(self->mu);
      self->inflight.erase(id);
    };
  }

  asio::awaitable<void> poll_loop() {
    asio::steady_timer timer(rt.main());
    for (;;) {
      std::vector<mailstore::QueueEntry> due;
      try {
        due = recipients.store().queue(system_now_ms(), 200);
      } catch (const std::exception& e) {
        std::cerr << rfc3339(system_now_ms()) << " congvu: outbound queue: " << e.what() << std::endl;
      }
      for (auto& q : due) {
        const std::uint64_t id = q.id;
        {
          std::lock_guard lk(mu);
          if (inflight.count(id) || inflight.size() >= cfg.parallel) continue;
          inflight.insert(id);
        }
        asio::co_spawn(rt.main(), attempt(std::move(q)), finished(id));
      }
      timer.expires_after(std::chrono::seconds(1));
      auto [ec] = co_await timer.async_wait(kTuple);
      if (ec) co_return;
    }
  }

  // Resolves on the worker pool: where mail for `domain` goes.
  void lookup(std::shared_ptr<Completion<Result<std::vector<std::pair<std::string, std::uint16_t>>>>> done,
              std::string domain) {
    workers.post([self = shared_from_this(), done = std::move(done), domain = std::move(domain)] {
      using Hosts = std::vector<std::pair<std::string, std::uint16_t>>;
      Result<Hosts> out = Hosts{};
      if (!self->cfg.smarthost.empty()) {
        auto colon = self->cfg.smarthost.rfind(':');
        std::string host = self->cfg.smarthost.substr(0, colon);
        auto port = static_cast<std::uint16_t>(std::stoi(self->cfg.smarthost.substr(colon + 1)));
        out->emplace_back(host, port);
      } else {
        auto mx = self->resolver.mx(domain);
        if (!mx && mx.error().code == Errc::not_found) {
          out->emplace_back(domain, self->cfg.port);  // no MX: the domain itself (RFC 5321 5.1)
        } else if (!mx) {
          out = mx.error();
        } else if (mx->size() == 1 && mx->front().host == ".") {
          out = make_error(Errc::not_found, "556 5.1.10 " + domain + " accepts no mail (null MX, RFC 7505)");
        } else {
          for (const auto& m : *mx) out->emplace_back(m.host, self->cfg.port);
        }
      }
      // Addresses for each host, in order.
      if (out.ok()) {
        Hosts resolved;
        for (const auto& [host, port] : *out) {
          boost::system::error_code ec;
          asio::ip::make_address(host, ec);
          if (!ec) {
            resolved.emplace_back(host, port);
            continue;
          }
          auto addrs = self->resolver.addresses(host);
          if (addrs)
            for (const auto& a : *addrs) resolved.emplace_back(a + "|" + host, port);
        }
        if (resolved.empty()) out = make_error(Errc::io, "4.4.4 no address for the mail servers of " + domain);
        else out = std::move(resolved);
      }
      Completion<Result<Hosts>>::set(done, std::move(out));
    });
  }

  asio::awaitable<Conversation> converse(Client* client, const mailstore::QueueEntry* entry,
                                         const std::vector<std::size_t>* indexes, const std::string* message,
                                         std::string host) {
    Client& c = *client;
    const mailstore::QueueEntry& q = *entry;
    const std::vector<std::size_t>& idx = *indexes;
    const std::string& body = *message;
    Conversation out;
    auto greeting = co_await c.reply(cfg.timeout);
    if (!greeting || greeting->code != 220) {
      out.failure = "4.4.2 " + host + " did not greet: " + (greeting ? greeting->text() : "no answer");
      co_return out;
    }
    const std::string ehlo_line = "EHLO " + cfg.hostname, helo_line = "HELO " + cfg.hostname;
    const std::string starttls_line = "STARTTLS", data_line = "DATA", quit_line = "QUIT";
    auto ehlo = co_await c.command(ehlo_line);
    if (!ehlo) {
      out.failure = "4.4.2 " + host + " dropped the connection";
      co_return out;
    }
    if (ehlo->code != 250) {
      auto helo = co_await c.command(helo_line);
      ehlo = std::move(helo);
    }
    if (ehlo && ehlo->code == 250 && ehlo->has("STARTTLS")) {
      auto r = co_await c.command(starttls_line);
      bool secured = false;
      if (r && r->code == 220) secured = co_await c.starttls(host);
      if (secured) {
        auto again = co_await c.command(ehlo_line);
        ehlo = std::move(again);
      }
    }
    if (!ehlo || ehlo->code != 250) {
      out.failure = "4.4.2 " + host + " refused EHLO: " + (ehlo ? ehlo->text() : "no answer");
      co_return out;
    }
    // SMTPUTF8 (RFC 6531): needed when an address is not ASCII; a server without it cannot
    // take the message at all (a permanent failure, so the sender hears at once).
    bool utf8 = non_ascii(q.sender);
    for (auto i : idx) utf8 = utf8 || non_ascii(q.rcpts[i].address);
    if (utf8 && !ehlo->has("SMTPUTF8")) {
      out.reached = true;
      out.replies.assign(idx.size(), "553 5.6.7 " + host + " does not support SMTPUTF8, needed for these addresses");
      auto bye = co_await c.command(quit_line);
      co_return out;
    }
    std::string mail = "MAIL FROM:<" + q.sender + ">";
    if (ehlo->has("SIZE")) mail += " SIZE=" + std::to_string(body.size());
    if (utf8) mail += " SMTPUTF8";
    auto r = co_await c.command(mail);
    if (!r) {
      out.failure = "4.4.2 " + host + " dropped the connection";
      co_return out;
    }
    out.reached = true;
    if (r->code != 250) {
      out.replies.assign(idx.size(), fmt(*r));
      co_return out;
    }
    std::vector<std::size_t> accepted;
    out.replies.resize(idx.size());
    for (std::size_t i = 0; i < idx.size(); ++i) {
      const std::string rcpt_line = "RCPT TO:<" + q.rcpts[idx[i]].address + ">";
      auto rr = co_await c.command(rcpt_line);
      out.replies[i] = rr ? fmt(*rr) : "451 4.4.2 connection lost during RCPT";
      if (rr && rr->code / 100 == 2) accepted.push_back(i);
      if (!rr) co_return out;
    }
    if (accepted.empty()) {
      // Named, not discarded: GCC 12 destroys a discarded co_await result twice.
      auto bye = co_await c.command(quit_line);
      co_return out;
    }
    auto d = co_await c.command(data_line);
    if (!d || d->code != 354) {
      for (auto i : accepted) out.replies[i] = d ? fmt(*d) : "451 4.4.2 connection lost at DATA";
      co_return out;
    }
    const std::string stuffed = proto::dot_stuff(body);
    bool sent = co_await c.send(stuffed);
    // No co_await inside ?: or in assignments (GCC 12 coroutine bugs): named results only.
    std::optional<proto::Reply> fin;
    if (sent) {
      auto final_reply = co_await c.reply(std::chrono::seconds(600));
      fin = std::move(final_reply);
    }
    for (auto i : accepted) out.replies[i] = fin ? fmt(*fin) : "451 4.4.2 connection lost after the data";
    if (fin) {
      auto bye = co_await c.command(quit_line);
    }
    co_return out;
  }

  asio::awaitable<void> attempt(mailstore::QueueEntry q) {
    auto ex = co_await asio::this_coro::executor;
    std::string body = recipients.store().blob_bytes(q.blob);
    std::map<std::string, std::vector<std::size_t>> by_domain;
    for (std::size_t i = 0; i < q.rcpts.size(); ++i)
      if (q.rcpts[i].state == Rcpt::pending) by_domain[domain_of(q.rcpts[i].address)].push_back(i);
    std::vector<std::size_t> newly_failed;
    std::string remote;
    for (const auto& [domain, idx] : by_domain) {
      using Hosts = std::vector<std::pair<std::string, std::uint16_t>>;
      auto where = std::make_shared<Completion<Result<Hosts>>>(ex);
      lookup(where, domain);
      while (!where->value) co_await where->timer.async_wait(kTuple);
      if (!where->value->ok()) {
        const auto& err = where->value->error();
        bool permanent = err.message.starts_with("556");
        for (auto i : idx) {
          q.rcpts[i].last_reply = permanent ? err.message : "451 " + err.message;
          if (permanent) {
            q.rcpts[i].state = Rcpt::failed;
            newly_failed.push_back(i);
          }
        }
        continue;
      }
      Conversation conv;
      for (const auto& [addr_host, port] : where->value->value()) {
        auto bar = addr_host.find('|');
        std::string addr = addr_host.substr(0, bar), host = bar == std::string::npos ? addr : addr_host.substr(bar + 1);
        tcp::socket sock(ex);
        boost::system::error_code ec;
        auto ip = asio::ip::make_address(addr, ec);
        if (ec) continue;
        asio::steady_timer guard(ex);
        guard.expires_after(std::chrono::seconds(30));
        guard.async_wait([&sock](boost::system::error_code e) {
          if (!e) sock.close();
        });
        auto [cec] = co_await sock.async_connect(tcp::endpoint(ip, port), kTuple);
        guard.cancel();
        if (cec) {
          conv.failure = "4.4.1 cannot connect to " + host + " [" + addr + "]: " + cec.message();
          continue;
        }
        Client client(std::move(sock), tls, cfg.timeout);
        auto result = co_await converse(&client, &q, &idx, &body, host);
        conv = std::move(result);
        client.close();
        remote = host;
        if (conv.reached) break;
      }
      for (std::size_t k = 0; k < idx.size(); ++k) {
        auto& r = q.rcpts[idx[k]];
        if (!conv.reached) {
          r.last_reply = "451 " + conv.failure;
          continue;
        }
        r.last_reply = conv.replies[k];
        char cls = r.last_reply.empty() ? '4' : r.last_reply[0];
        if (cls == '2') r.state = Rcpt::delivered;
        if (cls == '5') {
          r.state = Rcpt::failed;
          newly_failed.push_back(idx[k]);
        }
      }
    }
    UnixMs now = system_now_ms();
    ++q.attempts;
    if (!q.done() && now - q.created > std::chrono::duration_cast<std::chrono::milliseconds>(cfg.give_up).count()) {
      for (std::size_t i = 0; i < q.rcpts.size(); ++i)
        if (q.rcpts[i].state == Rcpt::pending) {
          q.rcpts[i].state = Rcpt::failed;
          q.rcpts[i].last_reply = "4.4.7 delivery time expired; last: " + q.rcpts[i].last_reply;
          newly_failed.push_back(i);
        }
    }
    q.next_attempt = now + std::chrono::duration_cast<std::chrono::milliseconds>(retry_delay(cfg, q.attempts)).count();
    report(q, newly_failed, "failed", remote, body, now);
    // NOTIFY=DELAY: one "delayed" report after the first attempt that could not deliver.
    std::vector<std::size_t> delayed;
    if (q.attempts == 1)
      for (std::size_t i = 0; i < q.rcpts.size(); ++i)
        if (q.rcpts[i].state == Rcpt::pending && (q.rcpts[i].notify & 4)) delayed.push_back(i);
    report(q, delayed, "delayed", remote, body, now);
    (void)recipients.store().update_queued(q);
  }

  // A DSN to the sender about the listed recipients (RFC 3461: failures unless NOTIFY says
  // otherwise, delays only when asked; never to the null sender, so reports cannot loop).
  void report(const mailstore::QueueEntry& q, const std::vector<std::size_t>& which, const std::string& action,
              const std::string& remote, const std::string& body, UnixMs now) {
    if (q.sender.empty() || which.empty()) return;
    DsnInput in;
    in.action = action;
    in.reporting_mta = cfg.hostname;
    in.postmaster = "MAILER-DAEMON@" + recipients.directory().settings().domain;
    in.sender = q.sender;
    in.envid = q.envid;
    in.ret_full = q.ret_full;
    in.arrival = q.created;
    in.now = now;
    in.message_id = PersonId::make(now).str() + "@" + cfg.hostname;
    in.remote_mta = remote;
    in.original = body;
    for (auto i : which) {
      const auto& r = q.rcpts[i];
      bool wants = action == "delayed" ? (r.notify & 4) != 0 : (r.notify == 0 || (r.notify & 2));  // default: FAILURE
      if (wants && !(r.notify & 8)) in.failed.push_back(r);
    }
    if (in.failed.empty()) return;
    auto d = std::make_shared<mailstore::Delivery>();
    d->data = build_dsn(in);
    d->internal_date = now;
    proto::Path to;
    auto at = q.sender.rfind('@');
    to.local = q.sender.substr(0, at);
    to.domain = q.sender.substr(at + 1);
    auto v = recipients.rcpt(to, std::nullopt, 0);
    if (v.ok() && !v.targets.empty()) {
      d->targets = v.targets;
    } else {
      mailstore::OutboundRecipient back;
      back.address = q.sender;
      back.notify = 8;  // a bounce of a bounce is never sent
      d->outbound = {back};
    }
    recipients.store().deliver(d, [](Result<mailstore::Receipt>) {});
  }
};

Outbound::Outbound(net::Runtime& rt, Recipients& recipients, Workers& workers, OutboundConfig cfg)
    : impl_(std::make_shared<Impl>(rt, recipients, workers, std::move(cfg))) {}

Outbound::~Outbound() = default;

void Outbound::start() { asio::co_spawn(impl_->rt.main(), impl_->poll_loop(), asio::detached); }

std::size_t Outbound::busy() const {
  std::lock_guard lk(impl_->mu);
  return impl_->inflight.size();
}

}  // namespace congvu::smtp
