#include "smtp/dns.hpp"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <poll.h>

#include <algorithm>
#include <mutex>

namespace congvu::smtp {

namespace {

struct Answer {
  bool done = false;
  int status = ARES_ETIMEOUT;
  std::string bytes;
};

void on_answer(void* arg, int status, int, unsigned char* abuf, int alen) {
  auto* a = static_cast<Answer*>(arg);
  a->done = true;
  a->status = status;
  if (status == ARES_SUCCESS && abuf) a->bytes.assign(reinterpret_cast<char*>(abuf), static_cast<std::size_t>(alen));
}

Error dns_error(int status, const std::string& name) {
  if (status == ARES_ENOTFOUND || status == ARES_ENODATA || status == ARES_ENONAME)
    return make_error(Errc::not_found, name + ": no such DNS record");
  return make_error(Errc::io, name + ": DNS lookup failed: " + ares_strerror(status));
}

}  // namespace

Result<std::string> Resolver::query(const std::string& name, int type) const {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
  ares_channel ch = nullptr;
  ares_options opts{};
  opts.timeout = static_cast<int>(timeout_.count());
  opts.tries = 2;
  if (ares_init_options(&ch, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS)
    return make_error(Errc::io, "cannot start the DNS resolver");
  if (!servers_.empty() && ares_set_servers_ports_csv(ch, servers_.c_str()) != ARES_SUCCESS) {
    ares_destroy(ch);
    return make_error(Errc::invalid_argument, "bad DNS servers '" + servers_ + "' (expected host:port,host:port)");
  }
  Answer a;
  ares_query(ch, name.c_str(), ns_c_in, type, &on_answer, &a);
  while (!a.done) {
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    int bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
    pollfd fds[ARES_GETSOCK_MAXNUM];
    int n = 0;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      short ev = 0;
      if (ARES_GETSOCK_READABLE(bits, i)) ev |= POLLIN;
      if (ARES_GETSOCK_WRITABLE(bits, i)) ev |= POLLOUT;
      if (ev) fds[n++] = pollfd{socks[i], ev, 0};
    }
    if (n == 0) break;
    timeval tv{}, max{};
    max.tv_sec = static_cast<long>(timeout_.count() / 1000);
    max.tv_usec = static_cast<long>((timeout_.count() % 1000) * 1000);
    timeval* t = ares_timeout(ch, &max, &tv);
    int ms = static_cast<int>(t->tv_sec * 1000 + t->tv_usec / 1000);
    int r = poll(fds, static_cast<nfds_t>(n), ms);
    if (r <= 0) {
      ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // lets c-ares handle timeouts
      continue;
    }
    for (int i = 0; i < n; ++i)
      ares_process_fd(ch, (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) ? fds[i].fd : ARES_SOCKET_BAD,
                      (fds[i].revents & POLLOUT) ? fds[i].fd : ARES_SOCKET_BAD);
  }
  ares_destroy(ch);  // runs the callback with ARES_EDESTRUCTION if still pending
  if (a.status != ARES_SUCCESS) return dns_error(a.status, name);
  return a.bytes;
}

Result<std::vector<MxHost>> Resolver::mx(const std::string& domain) const {
  auto raw = query(domain, ns_t_mx);
  if (!raw) return raw.error();
  ares_mx_reply* mx = nullptr;
  int st = ares_parse_mx_reply(reinterpret_cast<const unsigned char*>(raw->data()), static_cast<int>(raw->size()), &mx);
  if (st != ARES_SUCCESS) return dns_error(st, domain);
  std::vector<MxHost> out;
  for (auto* m = mx; m; m = m->next) out.push_back(MxHost{m->priority, *m->host ? m->host : "."});
  ares_free_data(mx);
  std::stable_sort(out.begin(), out.end(), [](const MxHost& a, const MxHost& b) { return a.preference < b.preference; });
  return out;
}

Result<std::vector<std::string>> Resolver::addresses(const std::string& host) const {
  std::vector<std::string> out;
  Error last = make_error(Errc::not_found, host + ": no address");
  bool definite = true;
  for (int type : {ns_t_a, ns_t_aaaa}) {
    auto raw = query(host, type);
    if (!raw) {
      if (raw.error().code != Errc::not_found) definite = false;
      last = raw.error();
      continue;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(raw->data());
    int len = static_cast<int>(raw->size());
    char text[INET6_ADDRSTRLEN];
    if (type == ns_t_a) {
      ares_addrttl ttls[32];
      int n = 32;
      if (ares_parse_a_reply(p, len, nullptr, ttls, &n) == ARES_SUCCESS)
        for (int i = 0; i < n; ++i) out.push_back(inet_ntop(AF_INET, &ttls[i].ipaddr, text, sizeof text));
    } else {
      ares_addr6ttl ttls[32];
      int n = 32;
      if (ares_parse_aaaa_reply(p, len, nullptr, ttls, &n) == ARES_SUCCESS)
        for (int i = 0; i < n; ++i) out.push_back(inet_ntop(AF_INET6, &ttls[i].ip6addr, text, sizeof text));
    }
  }
  if (out.empty()) return definite ? make_error(Errc::not_found, host + ": no address") : last;
  return out;
}

Result<std::vector<std::string>> Resolver::txt(const std::string& name) const {
  auto raw = query(name, ns_t_txt);
  if (!raw) return raw.error();
  ares_txt_ext* txt = nullptr;
  int st = ares_parse_txt_reply_ext(reinterpret_cast<const unsigned char*>(raw->data()), static_cast<int>(raw->size()), &txt);
  if (st != ARES_SUCCESS) return dns_error(st, name);
  std::vector<std::string> out;
  for (auto* t = txt; t; t = t->next) {
    if (t->record_start || out.empty()) out.emplace_back();
    out.back().append(reinterpret_cast<const char*>(t->txt), t->length);
  }
  ares_free_data(txt);
  return out;
}

namespace {
template <class T>
Result<T> lookup_static(const std::map<std::string, T>& table, const std::string& name) {
  std::string key = name;
  for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!key.empty() && key.back() == '.') key.pop_back();
  auto it = table.find(key);
  if (it == table.end()) return make_error(Errc::not_found, name + ": no such DNS record");
  return it->second;
}
}  // namespace

Result<std::vector<MxHost>> StaticDns::mx(const std::string& domain) const { return lookup_static(mx_records, domain); }
Result<std::vector<std::string>> StaticDns::addresses(const std::string& host) const {
  return lookup_static(address_records, host);
}
Result<std::vector<std::string>> StaticDns::txt(const std::string& name) const { return lookup_static(txt_records, name); }

}  // namespace congvu::smtp
