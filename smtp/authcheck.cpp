#include "smtp/authcheck.hpp"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include "common/crypto.hpp"
#include "common/text.hpp"
#include "smtp/dkim.hpp"
#include "smtp/proto/header.hpp"

namespace congvu::smtp {

const char* auth_result_name(AuthResult r) {
  switch (r) {
    case AuthResult::none: return "none";
    case AuthResult::pass: return "pass";
    case AuthResult::fail: return "fail";
    case AuthResult::softfail: return "softfail";
    case AuthResult::neutral: return "neutral";
    case AuthResult::temperror: return "temperror";
    case AuthResult::permerror: return "permerror";
    case AuthResult::policy: return "policy";
  }
  return "none";
}

namespace {

// A decimal number of 1 to 15 digits (after trimming), at most `max`; nullopt otherwise.
std::optional<std::uint64_t> decimal(std::string_view s, std::uint64_t max) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty() || s.size() > 15) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    auto e = s.find(sep, pos);
    if (e == std::string_view::npos) e = s.size();
    out.emplace_back(s.substr(pos, e - pos));
    pos = e + 1;
  }
  return out;
}

// ---------------------------------------------------------------- SPF (RFC 7208)

struct IpAddr {
  int family = 0;
  unsigned char bytes[16]{};
};

bool parse_ip(const std::string& s, IpAddr& out) {
  if (inet_pton(AF_INET, s.c_str(), out.bytes) == 1) {
    out.family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), out.bytes) == 1) {
    out.family = AF_INET6;
    return true;
  }
  return false;
}

bool in_cidr(const IpAddr& ip, const IpAddr& net, int bits) {
  if (ip.family != net.family) return false;
  int len = ip.family == AF_INET ? 32 : 128;
  if (bits < 0 || bits > len) return false;
  for (int i = 0; i < bits; ++i) {
    int byte = i / 8, bit = 7 - i % 8;
    if (((ip.bytes[byte] >> bit) & 1) != ((net.bytes[byte] >> bit) & 1)) return false;
  }
  return true;
}

struct SpfState {
  const DnsClient& dns;
  IpAddr ip;
  std::string ip_text, sender, helo;
  int dns_terms = 0, void_lookups = 0;
};

struct SpfError {
  AuthResult result;
};

// Expands %{x} macros (RFC 7208 7): s l o d i h v, with digit and 'r' transformers.
std::string expand(const SpfState& st, const std::string& spec, const std::string& domain) {
  std::string out;
  auto at = st.sender.rfind('@');
  std::string local = at == std::string::npos ? "postmaster" : st.sender.substr(0, at);
  std::string sdomain = at == std::string::npos ? st.sender : st.sender.substr(at + 1);
  for (std::size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] != '%') {
      out += spec[i];
      continue;
    }
    if (++i >= spec.size()) throw SpfError{AuthResult::permerror};
    char c = spec[i];
    if (c == '%') out += '%';
    else if (c == '_') out += ' ';
    else if (c == '-') out += "%20";
    else if (c == '{') {
      auto close = spec.find('}', i);
      if (close == std::string::npos || close == i + 1) throw SpfError{AuthResult::permerror};
      std::string m = spec.substr(i + 1, close - i - 1);
      i = close;
      char letter = static_cast<char>(std::tolower(static_cast<unsigned char>(m[0])));
      std::string value;
      switch (letter) {
        case 's': value = st.sender; break;
        case 'l': value = local; break;
        case 'o': value = sdomain; break;
        case 'd': value = domain; break;
        case 'h': value = st.helo; break;
        case 'v': value = st.ip.family == AF_INET ? "in-addr" : "ip6"; break;
        case 'i':
          if (st.ip.family == AF_INET) {
            value = st.ip_text;
          } else {
            for (int b = 0; b < 16; ++b) {
              char hex[3];
              std::snprintf(hex, sizeof hex, "%02x", st.ip.bytes[b]);
              value += std::string(1, hex[0]) + "." + hex[1] + (b < 15 ? "." : "");
            }
          }
          break;
        default: throw SpfError{AuthResult::permerror};
      }
      std::size_t j = 1;
      int keep = 0;
      while (j < m.size() && std::isdigit(static_cast<unsigned char>(m[j]))) keep = keep * 10 + (m[j++] - '0');
      bool reverse = j < m.size() && (m[j] == 'r' || m[j] == 'R') && ++j;
      std::string delims = j < m.size() ? m.substr(j) : ".";
      std::vector<std::string> parts;
      std::string cur;
      for (char ch : value) {
        if (delims.find(ch) != std::string::npos) {
          parts.push_back(cur);
          cur.clear();
        } else {
          cur += ch;
        }
      }
      parts.push_back(cur);
      if (reverse) std::reverse(parts.begin(), parts.end());
      if (keep > 0 && static_cast<std::size_t>(keep) < parts.size()) parts.erase(parts.begin(), parts.end() - keep);
      std::string joined;
      for (std::size_t k = 0; k < parts.size(); ++k) joined += (k ? "." : "") + parts[k];
      out += joined;
    } else {
      throw SpfError{AuthResult::permerror};
    }
  }
  return out;
}

void count_dns(SpfState& st) {
  if (++st.dns_terms > 10) throw SpfError{AuthResult::permerror};
}

template <class T>
std::vector<T> lookup(SpfState& st, const Result<std::vector<T>>& r) {
  if (r.ok()) {
    if (r->empty() && ++st.void_lookups > 2) throw SpfError{AuthResult::permerror};
    return r.value();
  }
  if (r.error().code == Errc::not_found) {
    if (++st.void_lookups > 2) throw SpfError{AuthResult::permerror};
    return {};
  }
  throw SpfError{AuthResult::temperror};
}

bool matches_addresses(const SpfState& st, const std::vector<std::string>& addrs, int v4, int v6) {
  for (const auto& a : addrs) {
    IpAddr net;
    if (parse_ip(a, net) && in_cidr(st.ip, net, net.family == AF_INET ? v4 : v6)) return true;
  }
  return false;
}

AuthResult spf_eval(SpfState& st, const std::string& domain, int depth);

// A prefix length of at most `max` bits (RFC 7208 5.6: a bad one is a permanent error).
int cidr_bits(const std::string& s, int max) {
  auto v = decimal(s, static_cast<std::uint64_t>(max));
  if (!v) throw SpfError{AuthResult::permerror};
  return static_cast<int>(*v);
}

// Splits "domain/cidr4//cidr6" (each part optional) of an a or mx mechanism.
void parse_target(SpfState& st, const std::string& arg, const std::string& domain, std::string& target, int& v4, int& v6) {
  std::string rest = arg;
  v4 = 32;
  v6 = 128;
  if (auto dbl = rest.find("//"); dbl != std::string::npos) {
    v6 = cidr_bits(rest.substr(dbl + 2), 128);
    rest = rest.substr(0, dbl);
  }
  if (auto slash = rest.rfind('/'); slash != std::string::npos) {
    v4 = cidr_bits(rest.substr(slash + 1), 32);
    rest = rest.substr(0, slash);
  }
  target = rest.empty() ? domain : expand(st, rest, domain);
}

AuthResult spf_eval(SpfState& st, const std::string& domain, int depth) {
  if (depth > 10) throw SpfError{AuthResult::permerror};
  auto txt = st.dns.txt(domain);
  if (!txt && txt.error().code != Errc::not_found) return AuthResult::temperror;
  std::vector<std::string> records;
  if (txt)
    for (const auto& t : *txt)
      if (text::ascii_lower(t.substr(0, 6)) == "v=spf1" && (t.size() == 6 || t[6] == ' ')) records.push_back(t);
  if (records.empty()) return AuthResult::none;
  if (records.size() > 1) return AuthResult::permerror;
  std::string redirect;
  for (const auto& raw : split(records[0].substr(6), ' ')) {
    std::string term = trim(raw);
    if (term.empty()) continue;
    std::string lt = text::ascii_lower(term);
    if (lt.starts_with("redirect=")) {
      redirect = term.substr(9);
      continue;
    }
    if (lt.starts_with("exp=") || (lt.find('=') != std::string::npos && lt.find(':') == std::string::npos)) continue;
    AuthResult q = AuthResult::pass;
    char first = term[0];
    if (first == '+' || first == '-' || first == '~' || first == '?') {
      q = first == '-' ? AuthResult::fail : first == '~' ? AuthResult::softfail : first == '?' ? AuthResult::neutral : AuthResult::pass;
      term = term.substr(1);
      lt = lt.substr(1);
    }
    auto colon = term.find(':');
    auto slash = term.find('/');
    std::string name = text::ascii_lower(term.substr(0, std::min(colon, slash)));
    std::string arg = colon != std::string::npos ? term.substr(colon + 1) : slash != std::string::npos ? term.substr(slash) : "";
    bool match = false;
    if (name == "all") {
      match = true;
    } else if (name == "ip4" || name == "ip6") {
      auto s2 = arg.find('/');
      IpAddr net;
      if (!parse_ip(arg.substr(0, s2), net)) throw SpfError{AuthResult::permerror};
      int bits = s2 == std::string::npos ? (net.family == AF_INET ? 32 : 128)
                                         : cidr_bits(arg.substr(s2 + 1), net.family == AF_INET ? 32 : 128);
      match = in_cidr(st.ip, net, bits);
    } else if (name == "a" || name == "mx") {
      count_dns(st);
      std::string target;
      int v4, v6;
      parse_target(st, colon != std::string::npos || slash != std::string::npos ? arg : "", domain, target, v4, v6);
      if (name == "a") {
        match = matches_addresses(st, lookup(st, st.dns.addresses(target)), v4, v6);
      } else {
        auto hosts = lookup(st, st.dns.mx(target));
        if (hosts.size() > 10) throw SpfError{AuthResult::permerror};
        for (const auto& h : hosts)
          if (!match && h.host != ".") match = matches_addresses(st, lookup(st, st.dns.addresses(h.host)), v4, v6);
      }
    } else if (name == "include") {
      count_dns(st);
      auto r = spf_eval(st, expand(st, arg, domain), depth + 1);
      if (r == AuthResult::pass) match = true;
      else if (r == AuthResult::temperror) return AuthResult::temperror;
      else if (r == AuthResult::permerror || r == AuthResult::none) return AuthResult::permerror;
    } else if (name == "exists") {
      count_dns(st);
      match = !lookup(st, st.dns.addresses(expand(st, arg, domain))).empty();
    } else if (name == "ptr") {
      count_dns(st);  // deprecated (RFC 7208 5.5): counted, never matches here
    } else {
      throw SpfError{AuthResult::permerror};
    }
    if (match) return q;
  }
  if (!redirect.empty()) {
    count_dns(st);
    auto r = spf_eval(st, expand(st, redirect, domain), depth + 1);
    return r == AuthResult::none ? AuthResult::permerror : r;
  }
  return AuthResult::neutral;
}

// ---------------------------------------------------------------- DKIM (RFC 6376)

std::map<std::string, std::string> tag_list(std::string_view v) {
  std::map<std::string, std::string> tags;
  for (const auto& part : split(v, ';')) {
    auto eq = part.find('=');
    if (eq == std::string::npos) continue;
    std::string name = trim(part.substr(0, eq)), value;
    for (char c : part.substr(eq + 1))
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') value += c;
    tags[name] = value;
  }
  return tags;
}

std::string simple_body(std::string_view body) {
  std::string b(body);
  while (b.size() >= 4 && b.compare(b.size() - 4, 4, "\r\n\r\n") == 0) b.resize(b.size() - 2);
  if (b.empty() || b == "\r\n") return "\r\n";
  if (b.size() < 2 || b.compare(b.size() - 2, 2, "\r\n") != 0) b += "\r\n";
  return b;
}

DkimCheck verify_one(const DnsClient& dns, std::string_view message, const proto::HeaderSection& h,
                     const proto::HeaderField& sigfield, UnixMs now) {
  DkimCheck c;
  auto tags = tag_list(proto::unfold(sigfield.value));
  c.domain = text::ascii_lower(tags["d"]);
  c.selector = tags["s"];
  c.algorithm = tags["a"];
  auto fail = [&](AuthResult r, std::string why) {
    c.result = r;
    c.reason = std::move(why);
    return c;
  };
  if (tags["v"] != "1" || c.domain.empty() || c.selector.empty() || tags["h"].empty() || tags["bh"].empty() || tags["b"].empty())
    return fail(AuthResult::permerror, "missing tags");
  if (c.algorithm != "rsa-sha256" && c.algorithm != "ed25519-sha256")
    return fail(AuthResult::permerror, "algorithm " + c.algorithm + " not accepted");
  std::string canon = tags.count("c") ? tags["c"] : "simple/simple";
  auto slash = canon.find('/');
  std::string hc = canon.substr(0, slash), bc = slash == std::string::npos ? "simple" : canon.substr(slash + 1);
  if ((hc != "simple" && hc != "relaxed") || (bc != "simple" && bc != "relaxed")) return fail(AuthResult::permerror, "bad c=");
  if (tags.count("x")) {
    // Seconds since 1970 (RFC 6376 3.5), compared in seconds: no multiplication to overflow.
    auto x = decimal(tags["x"], 1ULL << 48);
    if (!x) return fail(AuthResult::permerror, "bad x=");
    if (*x < static_cast<std::uint64_t>(std::max<UnixMs>(now, 0) / 1000)) return fail(AuthResult::fail, "signature expired");
  }
  auto hlist = split(tags["h"], ':');
  bool signs_from = false;
  for (auto& n : hlist) {
    n = trim(n);
    if (text::ascii_lower(n) == "from") signs_from = true;
  }
  if (!signs_from) return fail(AuthResult::permerror, "From not signed");
  // The key.
  auto txt = dns.txt(c.selector + "._domainkey." + c.domain);
  if (!txt) return fail(txt.error().code == Errc::not_found ? AuthResult::permerror : AuthResult::temperror, "no key");
  auto key = tag_list(txt->empty() ? "" : txt->front());
  std::string kt = key.count("k") ? key["k"] : "rsa";
  if ((kt == "ed25519") != (c.algorithm == "ed25519-sha256")) return fail(AuthResult::permerror, "key type mismatch");
  auto raw_key = crypto::base64_decode(key["p"]);
  if (!raw_key || raw_key->empty()) return fail(AuthResult::permerror, "key revoked or unreadable");
  // Body hash.
  auto headers_end = h.body_offset;
  std::string_view body = message.substr(std::min(headers_end, message.size()));
  std::string cbody = bc == "relaxed" ? dkim_relaxed_body(body) : simple_body(body);
  if (tags.count("l")) {
    auto parsed = decimal(tags["l"], 1ULL << 48);
    if (!parsed) return fail(AuthResult::permerror, "bad l=");
    auto l = *parsed;
    if (l > cbody.size()) return fail(AuthResult::permerror, "l= beyond the body");
    cbody.resize(l);
  }
  if (crypto::base64_encode(crypto::sha256_raw(cbody)) != tags["bh"]) return fail(AuthResult::fail, "body hash mismatch");
  // Header hash: each listed name takes the next occurrence from the bottom.
  std::map<std::string, int> used;
  std::string data;
  for (const auto& name : hlist) {
    std::string ln = text::ascii_lower(name);
    std::vector<const proto::HeaderField*> found;
    for (const auto& f : h.fields)
      if (proto::iequal(f.name, ln)) found.push_back(&f);
    int& n = used[ln];
    if (n < static_cast<int>(found.size())) {
      const auto* f = found[found.size() - 1 - static_cast<std::size_t>(n)];
      data += hc == "relaxed" ? dkim_relaxed_header(f->name, f->value) : std::string(f->raw);
    }
    ++n;
  }
  // The signature field itself, with the b= value emptied, without its final CRLF.
  std::string sig(sigfield.raw);
  auto bpos = std::string::npos;
  for (std::size_t i = 0; i + 1 < sig.size(); ++i) {
    if ((i == 0 || sig[i - 1] == ';' || sig[i - 1] == ' ' || sig[i - 1] == '\t' || sig[i - 1] == '\n' || sig[i - 1] == ':') &&
        sig[i] == 'b' && (sig[i + 1] == '=' || sig[i + 1] == ' ' || sig[i + 1] == '\t')) {
      auto eq = sig.find('=', i);
      if (eq != std::string::npos && sig.find_first_not_of(" \t", i + 1) == eq) {
        bpos = eq + 1;
        break;
      }
    }
  }
  if (bpos == std::string::npos) return fail(AuthResult::permerror, "no b=");
  auto bend = sig.find(';', bpos);
  std::string stripped = sig.substr(0, bpos) + (bend == std::string::npos ? std::string("\r\n") : sig.substr(bend));
  if (stripped.size() >= 2 && stripped.compare(stripped.size() - 2, 2, "\r\n") != 0) stripped += "\r\n";
  std::string sigc;
  if (hc == "relaxed") {
    auto colon = stripped.find(':');
    sigc = dkim_relaxed_header(stripped.substr(0, colon), stripped.substr(colon + 1));
  } else {
    sigc = stripped;
  }
  sigc.resize(sigc.size() - 2);
  data += sigc;
  auto signature = crypto::base64_decode(tags["b"]);
  if (!signature) return fail(AuthResult::permerror, "b= is not base64");
  bool ok = false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (c.algorithm == "ed25519-sha256") {
    EVP_PKEY* pk = raw_key->size() == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                                                       reinterpret_cast<const unsigned char*>(raw_key->data()), 32)
                                         : nullptr;
    std::string digest = crypto::sha256_raw(data);
    ok = pk && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pk) == 1 &&
         EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature->data()), signature->size(),
                          reinterpret_cast<const unsigned char*>(digest.data()), digest.size()) == 1;
    EVP_PKEY_free(pk);
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(raw_key->data());
    EVP_PKEY* pk = d2i_PUBKEY(nullptr, &p, static_cast<long>(raw_key->size()));
    ok = pk && EVP_PKEY_get_bits(pk) >= 1024 && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, pk) == 1 &&
         EVP_DigestVerifyUpdate(ctx, data.data(), data.size()) == 1 &&
         EVP_DigestVerifyFinal(ctx, reinterpret_cast<const unsigned char*>(signature->data()), signature->size()) == 1;
    EVP_PKEY_free(pk);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return fail(AuthResult::fail, "signature does not verify");
  c.result = AuthResult::pass;
  return c;
}

// ---------------------------------------------------------------- DMARC (RFC 7489)

struct Psl {
  std::set<std::string> rules, wildcards, exceptions;
  bool loaded = false;
};

const Psl& psl() {
  static Psl p;
  static std::once_flag once;
  std::call_once(once, [] {
    std::ifstream in("/usr/share/publicsuffix/public_suffix_list.dat");
    std::string line;
    while (std::getline(in, line)) {
      line = trim(line);
      if (line.empty() || line.starts_with("//")) continue;
      line = line.substr(0, line.find(' '));
      if (line.starts_with("*.")) p.wildcards.insert(line.substr(2));
      else if (line.starts_with("!")) p.exceptions.insert(line.substr(1));
      else p.rules.insert(line);
      p.loaded = true;
    }
  });
  return p;
}

}  // namespace

std::string organizational_domain(const std::string& domain_in) {
  std::string domain = text::ascii_lower(domain_in);
  auto labels = split(domain, '.');
  const Psl& p = psl();
  if (!p.loaded) return labels.size() <= 2 ? domain : labels[labels.size() - 2] + "." + labels.back();
  // The longest matching public suffix, then one more label.
  std::size_t suffix_labels = 1;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    std::string cand;
    for (std::size_t k = i; k < labels.size(); ++k) cand += (k > i ? "." : "") + labels[k];
    std::size_t n = labels.size() - i;
    if (p.exceptions.count(cand)) {
      suffix_labels = std::max(suffix_labels, n - 1);
      break;
    }
    std::string parent = i + 1 < labels.size() ? cand.substr(labels[i].size() + 1) : "";
    if (p.rules.count(cand) || (!parent.empty() && p.wildcards.count(parent))) {
      suffix_labels = std::max(suffix_labels, n);
      break;
    }
  }
  if (suffix_labels >= labels.size()) return domain;
  std::string out;
  for (std::size_t k = labels.size() - suffix_labels - 1; k < labels.size(); ++k) out += (out.empty() ? "" : ".") + labels[k];
  return out;
}

AuthResult check_spf(const DnsClient& dns, const std::string& ip, const std::string& domain, const std::string& sender,
                     const std::string& helo) {
  SpfState st{dns, {}, ip, sender, helo};
  if (!parse_ip(ip, st.ip) || domain.empty()) return AuthResult::none;
  try {
    return spf_eval(st, text::ascii_lower(domain), 0);
  } catch (const SpfError& e) {
    return e.result;
  } catch (const std::exception&) {
    return AuthResult::permerror;  // malformed numbers in a record
  }
}

std::vector<DkimCheck> verify_dkim(const DnsClient& dns, std::string_view message, UnixMs now) {
  std::vector<DkimCheck> out;
  auto h = proto::parse_header_section(message);
  if (!h) return out;
  for (const auto& f : h->fields) {
    if (!proto::iequal(f.name, "DKIM-Signature")) continue;
    if (out.size() >= 5) break;
    try {
      out.push_back(verify_one(dns, message, *h, f, now));
    } catch (const std::exception&) {
      DkimCheck c;
      c.result = AuthResult::permerror;
      c.reason = "malformed signature";
      out.push_back(c);
    }
  }
  return out;
}

InboundAuth check_inbound(const DnsClient& dns, const InboundMessage& in) {
  InboundAuth a;
  auto at = in.mail_from.rfind('@');
  a.spf_domain = at == std::string::npos ? text::ascii_lower(in.helo) : text::ascii_lower(in.mail_from.substr(at + 1));
  a.spf = check_spf(dns, in.client_ip, a.spf_domain, in.mail_from.empty() ? "postmaster@" + in.helo : in.mail_from, in.helo);
  a.dkim = verify_dkim(dns, in.message, in.now);
  auto h = proto::parse_header_section(in.message);
  const auto* from = h ? h->find("From") : nullptr;
  auto addrs = from ? proto::parse_address_list(proto::unfold(from->value)) : std::vector<std::string>{};
  if (addrs.size() != 1) {
    a.dmarc = addrs.empty() ? AuthResult::none : AuthResult::permerror;
    return a;
  }
  a.from_domain = text::ascii_lower(addrs[0].substr(addrs[0].rfind('@') + 1));
  std::string org = organizational_domain(a.from_domain);
  auto record = [&](const std::string& d) -> Result<std::string> {
    auto t = dns.txt("_dmarc." + d);
    if (!t) return t.error();
    for (const auto& r : *t)
      if (r.starts_with("v=DMARC1")) return r;
    return make_error(Errc::not_found, "no DMARC record");
  };
  auto rec = record(a.from_domain);
  bool subdomain_policy = false;
  if (!rec && rec.error().code == Errc::not_found && org != a.from_domain) {
    rec = record(org);
    subdomain_policy = true;
  }
  if (!rec) {
    a.dmarc = rec.error().code == Errc::not_found ? AuthResult::none : AuthResult::temperror;
    return a;
  }
  auto tags = tag_list(*rec);
  std::string p = tags.count("p") ? text::ascii_lower(tags["p"]) : "";
  if (p != "none" && p != "quarantine" && p != "reject") {
    a.dmarc = AuthResult::permerror;
    return a;
  }
  a.dmarc_policy = subdomain_policy && tags.count("sp") ? text::ascii_lower(tags["sp"]) : p;
  bool strict_dkim = tags["adkim"] == "s", strict_spf = tags["aspf"] == "s";
  auto aligned = [&](const std::string& d, bool strict) {
    return strict ? text::ascii_lower(d) == a.from_domain : organizational_domain(d) == org;
  };
  bool pass = a.spf == AuthResult::pass && aligned(a.spf_domain, strict_spf);
  for (const auto& d : a.dkim)
    if (d.result == AuthResult::pass && aligned(d.domain, strict_dkim)) pass = true;
  a.dmarc = pass ? AuthResult::pass : AuthResult::fail;
  int pct = tags.count("pct") ? std::clamp(std::atoi(tags["pct"].c_str()), 0, 100) : 100;
  unsigned char r = 0;
  crypto::random_bytes(&r, 1);
  a.dmarc_applies = !pass && (pct >= 100 || r % 100 < pct);
  return a;
}

std::string InboundAuth::header(const std::string& id) const {
  std::string h = "Authentication-Results: " + id + ";\r\n\tspf=" + auth_result_name(spf) + " smtp.mailfrom=" + spf_domain;
  if (dkim.empty()) h += ";\r\n\tdkim=none";
  for (const auto& d : dkim) {
    h += ";\r\n\tdkim=" + std::string(auth_result_name(d.result));
    if (!d.reason.empty() && d.result != AuthResult::pass) h += " (" + d.reason + ")";
    h += " header.d=" + d.domain + " header.s=" + d.selector + " header.a=" + d.algorithm;
  }
  h += ";\r\n\tdmarc=" + std::string(auth_result_name(dmarc));
  if (!from_domain.empty()) h += " (p=" + dmarc_policy + ") header.from=" + from_domain;
  return h + "\r\n";
}

}  // namespace congvu::smtp
