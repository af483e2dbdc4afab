#include "directory/ldap/proto.hpp"

#include <lber.h>
#include <ldap.h>

#include <memory>

namespace congvu::directory::ldap {
namespace {

// A decoder over one PDU held in `buf_` (liblber decodes in place and needs a mutable buffer).
class Reader {
 public:
  explicit Reader(std::string_view pdu) : buf_(pdu), ber_(ber_alloc_t(LBER_USE_DER)) {
    if (!ber_) throw std::bad_alloc();
    berval bv{static_cast<ber_len_t>(buf_.size()), buf_.data()};
    ber_init2(ber_.get(), &bv, LBER_USE_DER);
  }
  BerElement* ber() { return ber_.get(); }

 private:
  struct Free {
    void operator()(BerElement* b) const { ber_free(b, 0); }
  };
  std::string buf_;
  std::unique_ptr<BerElement, Free> ber_;
};

bool get_string(BerElement* ber, std::string& out) {
  berval bv{};
  if (ber_get_stringbv(ber, &bv, LBER_BV_NOTERM) == LBER_ERROR) return false;
  out.assign(bv.bv_val ? bv.bv_val : "", bv.bv_len);
  return true;
}

bool get_string_tag(BerElement* ber, ber_tag_t want, std::string& out) {
  ber_len_t len = 0;
  if (ber_peek_tag(ber, &len) != want) return false;
  return get_string(ber, out);
}

bool get_int(BerElement* ber, ber_tag_t want, std::int64_t& out) {
  ber_len_t len = 0;
  if (ber_peek_tag(ber, &len) != want) return false;
  ber_int_t v = 0;
  if ((want == LBER_ENUMERATED ? ber_get_enum(ber, &v) : ber_get_int(ber, &v)) == LBER_ERROR) return false;
  out = v;
  return true;
}

bool get_bool(BerElement* ber, bool& out) {
  ber_len_t len = 0;
  if (ber_peek_tag(ber, &len) != LBER_BOOLEAN) return false;
  ber_int_t v = 0;
  if (ber_get_boolean(ber, &v) == LBER_ERROR) return false;
  out = v != 0;
  return true;
}

// Iterates the elements of a constructed value whose tag was just peeked: fn(tag) decodes one
// element and returns false on error.
template <class F>
bool each_element(BerElement* ber, F&& fn) {
  ber_len_t len = 0;
  char* last = nullptr;
  for (ber_tag_t tag = ber_first_element(ber, &len, &last); tag != LBER_DEFAULT;
       tag = ber_next_element(ber, &len, last)) {
    if (!fn(tag)) return false;
  }
  return true;
}

struct FilterBudget {
  std::size_t items = 0;
  std::string limit;
};

bool decode_filter(BerElement* ber, Filter& f, int depth, FilterBudget& budget) {
  if (++budget.items > kMaxFilterItems && budget.limit.empty()) budget.limit = "the filter has too many items";
  if (depth > kMaxDepth && budget.limit.empty()) budget.limit = "the filter is nested too deeply";
  // Past a limit the rest is still decoded (to tell malformed from merely large), without
  // keeping anything and without recursing further than the stack can take.
  ber_len_t len = 0;
  ber_tag_t tag = ber_peek_tag(ber, &len);
  switch (tag) {
    case LDAP_FILTER_AND:
    case LDAP_FILTER_OR:
    case LDAP_FILTER_NOT: {
      f.kind = tag == LDAP_FILTER_AND ? Filter::and_ : tag == LDAP_FILTER_OR ? Filter::or_ : Filter::not_;
      if (depth > 4 * kMaxDepth) return false;  // hostile nesting: treat as malformed
      bool ok = each_element(ber, [&](ber_tag_t) {
        Filter child;
        if (!decode_filter(ber, child, depth + 1, budget)) return false;
        if (budget.limit.empty()) f.children.push_back(std::move(child));
        return true;
      });
      if (!ok) return false;
      // ber_first_element consumed the header; an empty SET still has to be skipped.
      if (f.kind == Filter::not_ && f.children.size() != 1 && budget.limit.empty()) return false;
      return true;
    }
    case LDAP_FILTER_EQUALITY:
    case LDAP_FILTER_GE:
    case LDAP_FILTER_LE:
    case LDAP_FILTER_APPROX: {
      f.kind = tag == LDAP_FILTER_EQUALITY ? Filter::equality
               : tag == LDAP_FILTER_GE     ? Filter::ge
               : tag == LDAP_FILTER_LE     ? Filter::le
                                           : Filter::approx;
      if (ber_skip_tag(ber, &len) == LBER_DEFAULT) return false;
      return get_string_tag(ber, LBER_OCTETSTRING, f.attr) && get_string_tag(ber, LBER_OCTETSTRING, f.value);
    }
    case LDAP_FILTER_PRESENT:
      f.kind = Filter::present;
      return get_string(ber, f.attr);
    case LDAP_FILTER_SUBSTRINGS: {
      f.kind = Filter::substrings;
      if (ber_skip_tag(ber, &len) == LBER_DEFAULT) return false;
      if (!get_string_tag(ber, LBER_OCTETSTRING, f.attr)) return false;
      if (ber_peek_tag(ber, &len) != LBER_SEQUENCE) return false;
      std::size_t n = 0;
      bool ok = each_element(ber, [&](ber_tag_t t) {
        std::string s;
        if (!get_string(ber, s)) return false;
        if (++n > kMaxSubstrings && budget.limit.empty()) budget.limit = "the substring filter has too many parts";
        if (t == LDAP_SUBSTRING_INITIAL) {
          if (f.initial || !f.any.empty() || f.final_) return false;
          f.initial = std::move(s);
        } else if (t == LDAP_SUBSTRING_ANY) {
          if (f.final_) return false;
          f.any.push_back(std::move(s));
        } else if (t == LDAP_SUBSTRING_FINAL) {
          if (f.final_) return false;
          f.final_ = std::move(s);
        } else {
          return false;
        }
        return true;
      });
      return ok && n > 0;
    }
    case LDAP_FILTER_EXT: {
      f.kind = Filter::extensible;
      bool has_value = false;
      bool ok = each_element(ber, [&](ber_tag_t t) {
        if (t == LDAP_FILTER_EXT_OID) return get_string(ber, f.rule);
        if (t == LDAP_FILTER_EXT_TYPE) return get_string(ber, f.attr);
        if (t == LDAP_FILTER_EXT_VALUE) return has_value = true, get_string(ber, f.value);
        if (t == LDAP_FILTER_EXT_DNATTRS) {
          ber_int_t b = 0;
          if (ber_get_boolean(ber, &b) == LBER_ERROR) return false;
          f.dn_attributes = b != 0;
          return true;
        }
        return false;
      });
      return ok && has_value && (!f.rule.empty() || !f.attr.empty());
    }
    default:
      return false;
  }
}

bool decode_controls(BerElement* ber, std::vector<Control>& out) {
  return each_element(ber, [&](ber_tag_t t) {
    if (t != LBER_SEQUENCE) return false;
    ber_len_t len = 0;
    if (ber_skip_tag(ber, &len) == LBER_DEFAULT) return false;
    Control c;
    if (!get_string_tag(ber, LBER_OCTETSTRING, c.oid)) return false;
    // The remaining elements of this control: optional criticality, optional value.
    ber_tag_t next = ber_peek_tag(ber, &len);
    if (next == LBER_BOOLEAN) {
      if (!get_bool(ber, c.critical)) return false;
      next = ber_peek_tag(ber, &len);
    }
    if (next == LBER_OCTETSTRING) {
      std::string v;
      if (!get_string(ber, v)) return false;
      c.value = std::move(v);
    }
    out.push_back(std::move(c));
    return true;
  });
}

// Tags ber_peek_tag reports at the end of the enclosing element.
bool at_end(BerElement* ber) {
  ber_len_t len = 0;
  return ber_peek_tag(ber, &len) == LBER_DEFAULT;
}

std::optional<Operation> decode_op(BerElement* ber, ber_tag_t tag, FilterBudget& budget) {
  ber_len_t len = 0;
  switch (tag) {
    case LDAP_REQ_BIND: {
      BindRequest b;
      if (ber_skip_tag(ber, &len) == LBER_DEFAULT) return std::nullopt;
      std::int64_t version = 0;
      if (!get_int(ber, LBER_INTEGER, version) || !get_string_tag(ber, LBER_OCTETSTRING, b.name)) return std::nullopt;
      b.version = static_cast<int>(version);
      ber_tag_t auth = ber_peek_tag(ber, &len);
      if (auth == LDAP_AUTH_SIMPLE) {
        if (!get_string(ber, b.password)) return std::nullopt;
      } else if (auth == LDAP_AUTH_SASL) {
        b.sasl = true;
        if (ber_skip_tag(ber, &len) == LBER_DEFAULT || !get_string_tag(ber, LBER_OCTETSTRING, b.mechanism))
          return std::nullopt;
        if (ber_peek_tag(ber, &len) == LBER_OCTETSTRING) {
          std::string c;
          if (!get_string(ber, c)) return std::nullopt;
          b.credentials = std::move(c);
        }
      } else {
        // Other authentication choices (e.g. the old Kerberos ones): decoded as unsupported.
        b.mechanism = "?";
        b.sasl = true;
        return b;
      }
      return b;
    }
    case LDAP_REQ_UNBIND:
      if (ber_skip_tag(ber, &len) == LBER_DEFAULT) return std::nullopt;
      return UnbindRequest{};
    case LDAP_REQ_SEARCH: {
      SearchRequest s;
      if (ber_skip_tag(ber, &len) == LBER_DEFAULT) return std::nullopt;
      std::int64_t scope = 0, deref = 0;
      if (!get_string_tag(ber, LBER_OCTETSTRING, s.base) || !get_int(ber, LBER_ENUMERATED, scope) ||
          !get_int(ber, LBER_ENUMERATED, deref) || !get_int(ber, LBER_INTEGER, s.size_limit) ||
          !get_int(ber, LBER_INTEGER, s.time_limit) || !get_bool(ber, s.types_only))
        return std::nullopt;
      if (scope < 0 || scope > 3 || deref < 0 || deref > 3 || s.size_limit < 0 || s.time_limit < 0) return std::nullopt;
      s.scope = static_cast<int>(scope);
      s.deref = static_cast<int>(deref);
      if (!decode_filter(ber, s.filter, 1, budget)) return std::nullopt;
      if (ber_peek_tag(ber, &len) != LBER_SEQUENCE) return std::nullopt;
      bool ok = each_element(ber, [&](ber_tag_t t) {
        std::string a;
        if (t != LBER_OCTETSTRING || !get_string(ber, a)) return false;
        s.attributes.push_back(std::move(a));
        return true;
      });
      if (!ok) return std::nullopt;
      return s;
    }
    case LDAP_REQ_COMPARE: {
      CompareRequest c;
      if (ber_skip_tag(ber, &len) == LBER_DEFAULT || !get_string_tag(ber, LBER_OCTETSTRING, c.dn)) return std::nullopt;
      if (ber_peek_tag(ber, &len) != LBER_SEQUENCE || ber_skip_tag(ber, &len) == LBER_DEFAULT) return std::nullopt;
      if (!get_string_tag(ber, LBER_OCTETSTRING, c.attr) || !get_string_tag(ber, LBER_OCTETSTRING, c.value))
        return std::nullopt;
      return c;
    }
    case LDAP_REQ_ABANDON: {
      ber_int_t id = 0;
      if (ber_get_int(ber, &id) == LBER_ERROR) return std::nullopt;
      return AbandonRequest{static_cast<int>(id)};
    }
    case LDAP_REQ_EXTENDED: {
      ExtendedRequest e;
      if (ber_skip_tag(ber, &len) == LBER_DEFAULT) return std::nullopt;
      if (!get_string_tag(ber, LDAP_TAG_EXOP_REQ_OID, e.oid)) return std::nullopt;
      if (ber_peek_tag(ber, &len) == LDAP_TAG_EXOP_REQ_VALUE) {
        std::string v;
        if (!get_string(ber, v)) return std::nullopt;
        e.value = std::move(v);
      }
      return e;
    }
    case LDAP_REQ_MODIFY:
    case LDAP_REQ_ADD:
    case LDAP_REQ_DELETE:
    case LDAP_REQ_MODDN: {
      // Skipped whole: the reply does not depend on the contents.
      berval bv{};
      if (ber_get_stringbv(ber, &bv, LBER_BV_NOTERM) == LBER_ERROR) return std::nullopt;
      return WriteRequest{static_cast<int>(tag == LDAP_REQ_MODIFY ? LDAP_RES_MODIFY
                                           : tag == LDAP_REQ_ADD  ? LDAP_RES_ADD
                                           : tag == LDAP_REQ_DELETE ? LDAP_RES_DELETE
                                                                  : LDAP_RES_MODDN)};
    }
    default:
      return std::nullopt;
  }
}

// An encoder producing one BER element.
class Writer {
 public:
  Writer() : ber_(ber_alloc_t(LBER_USE_DER)) {
    if (!ber_) throw std::bad_alloc();
  }
  BerElement* ber() { return ber_.get(); }
  std::string take() {
    berval bv{};
    if (ber_flatten2(ber_.get(), &bv, 0) != 0) throw std::bad_alloc();
    return std::string(bv.bv_val, bv.bv_len);
  }

 private:
  struct Free {
    void operator()(BerElement* b) const { ber_free(b, 1); }
  };
  std::unique_ptr<BerElement, Free> ber_;
};

void check(int rc) {
  if (rc == -1) throw std::bad_alloc();
}

void put_controls(BerElement* ber, const std::vector<Control>& controls) {
  if (controls.empty()) return;
  check(ber_printf(ber, "t{", static_cast<ber_tag_t>(LDAP_TAG_CONTROLS)));
  for (const auto& c : controls) {
    check(ber_printf(ber, "{o", c.oid.data(), static_cast<ber_len_t>(c.oid.size())));
    if (c.critical) check(ber_printf(ber, "b", static_cast<ber_int_t>(1)));
    if (c.value) check(ber_printf(ber, "o", c.value->data(), static_cast<ber_len_t>(c.value->size())));
    check(ber_printf(ber, "N}"));
  }
  check(ber_printf(ber, "N}"));
}

void escape_value(std::string& out, std::string_view v) {
  static const char* hex = "0123456789abcdef";
  for (unsigned char c : v) {
    if (c == '*' || c == '(' || c == ')' || c == '\\' || c == 0) {
      out += '\\';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
}

}  // namespace

Frame frame(std::string_view buf, std::size_t max_pdu) {
  if (buf.empty()) return {};
  if (static_cast<unsigned char>(buf[0]) != 0x30) return {Frame::malformed, 0};
  if (buf.size() < 2) return {};
  auto first = static_cast<unsigned char>(buf[1]);
  std::size_t header = 2, length = 0;
  if (first < 0x80) {
    length = first;
  } else {
    std::size_t n = first & 0x7f;
    if (n == 0 || n > 4) return {Frame::malformed, 0};  // indefinite or absurd lengths
    if (buf.size() < 2 + n) return {};
    for (std::size_t i = 0; i < n; ++i) length = (length << 8) | static_cast<unsigned char>(buf[2 + i]);
    header += n;
  }
  if (length + header > max_pdu) return {Frame::too_large, length + header};
  if (buf.size() < header + length) return {};
  return {Frame::ready, header + length};
}

std::optional<Message> decode(std::string_view pdu) {
  try {
    Reader r(pdu);
    BerElement* ber = r.ber();
    ber_len_t len = 0;
    if (ber_skip_tag(ber, &len) != LBER_SEQUENCE) return std::nullopt;
    Message m;
    std::int64_t id = 0;
    if (!get_int(ber, LBER_INTEGER, id) || id < 0 || id > 2147483647) return std::nullopt;
    m.id = static_cast<int>(id);
    FilterBudget budget;
    auto op = decode_op(ber, ber_peek_tag(ber, &len), budget);
    if (!op) return std::nullopt;
    m.op = std::move(*op);
    m.limit = std::move(budget.limit);
    ber_tag_t next = ber_peek_tag(ber, &len);
    if (next == LDAP_TAG_CONTROLS) {
      if (!decode_controls(ber, m.controls)) return std::nullopt;
    } else if (next != LBER_DEFAULT) {
      return std::nullopt;
    }
    if (!at_end(ber)) return std::nullopt;
    // An abandon or unbind carries no message ID of its own to answer; a request must not use 0.
    if (m.id == 0) return std::nullopt;
    return m;
  } catch (const std::bad_alloc&) {
    return std::nullopt;
  }
}

std::optional<PagedResults> decode_paged(std::string_view value) {
  Reader r(value);
  BerElement* ber = r.ber();
  ber_len_t len = 0;
  if (ber_skip_tag(ber, &len) != LBER_SEQUENCE) return std::nullopt;
  PagedResults p;
  if (!get_int(ber, LBER_INTEGER, p.size) || p.size < 0 || !get_string_tag(ber, LBER_OCTETSTRING, p.cookie))
    return std::nullopt;
  return p;
}

std::string encode_paged(std::int64_t estimate, std::string_view cookie) {
  Writer w;
  check(ber_printf(w.ber(), "{io}", static_cast<ber_int_t>(estimate), cookie.data(),
                   static_cast<ber_len_t>(cookie.size())));
  return w.take();
}

std::optional<std::vector<SortKey>> decode_sort(std::string_view value) {
  Reader r(value);
  BerElement* ber = r.ber();
  ber_len_t len = 0;
  if (ber_peek_tag(ber, &len) != LBER_SEQUENCE) return std::nullopt;
  std::vector<SortKey> keys;
  bool ok = each_element(ber, [&](ber_tag_t t) {
    if (t != LBER_SEQUENCE || ber_skip_tag(ber, &len) == LBER_DEFAULT) return false;
    SortKey k;
    if (!get_string_tag(ber, LBER_OCTETSTRING, k.attr)) return false;
    ber_tag_t next = ber_peek_tag(ber, &len);
    if (next == 0x80) {
      if (!get_string(ber, k.rule)) return false;
      next = ber_peek_tag(ber, &len);
    }
    if (next == 0x81) {
      ber_int_t b = 0;
      if (ber_get_boolean(ber, &b) == LBER_ERROR) return false;
      k.reverse = b != 0;
    }
    keys.push_back(std::move(k));
    return keys.size() <= 8;
  });
  if (!ok || keys.empty()) return std::nullopt;
  return keys;
}

std::string encode_sort_result(Code code) {
  Writer w;
  check(ber_printf(w.ber(), "{e}", static_cast<ber_int_t>(code)));
  return w.take();
}

std::string encode_result(int id, int tag, Code code, std::string_view matched, std::string_view diagnostic,
                          const std::vector<Control>& controls) {
  Writer w;
  check(ber_printf(w.ber(), "{it{eoo}", static_cast<ber_int_t>(id), static_cast<ber_tag_t>(tag),
                   static_cast<ber_int_t>(code), matched.data(), static_cast<ber_len_t>(matched.size()),
                   diagnostic.data(), static_cast<ber_len_t>(diagnostic.size())));
  put_controls(w.ber(), controls);
  check(ber_printf(w.ber(), "N}"));
  return w.take();
}

std::string encode_bind_result(int id, Code code, std::string_view diagnostic,
                               const std::optional<std::string>& sasl_credentials) {
  Writer w;
  check(ber_printf(w.ber(), "{it{eoo", static_cast<ber_int_t>(id), static_cast<ber_tag_t>(LDAP_RES_BIND),
                   static_cast<ber_int_t>(code), "", static_cast<ber_len_t>(0), diagnostic.data(),
                   static_cast<ber_len_t>(diagnostic.size())));
  if (sasl_credentials)
    check(ber_printf(w.ber(), "to", static_cast<ber_tag_t>(LDAP_TAG_SASL_RES_CREDS), sasl_credentials->data(),
                     static_cast<ber_len_t>(sasl_credentials->size())));
  check(ber_printf(w.ber(), "N}N}"));
  return w.take();
}

std::string encode_extended_result(int id, Code code, std::string_view diagnostic, std::string_view oid,
                                   const std::optional<std::string>& value) {
  Writer w;
  check(ber_printf(w.ber(), "{it{eoo", static_cast<ber_int_t>(id), static_cast<ber_tag_t>(LDAP_RES_EXTENDED),
                   static_cast<ber_int_t>(code), "", static_cast<ber_len_t>(0), diagnostic.data(),
                   static_cast<ber_len_t>(diagnostic.size())));
  if (!oid.empty())
    check(ber_printf(w.ber(), "to", static_cast<ber_tag_t>(LDAP_TAG_EXOP_RES_OID), oid.data(),
                     static_cast<ber_len_t>(oid.size())));
  if (value)
    check(ber_printf(w.ber(), "to", static_cast<ber_tag_t>(LDAP_TAG_EXOP_RES_VALUE), value->data(),
                     static_cast<ber_len_t>(value->size())));
  check(ber_printf(w.ber(), "N}N}"));
  return w.take();
}

std::string encode_entry(int id, std::string_view dn, const std::vector<Attribute>& attrs, bool types_only) {
  Writer w;
  BerElement* ber = w.ber();
  check(ber_printf(ber, "{it{o{", static_cast<ber_int_t>(id), static_cast<ber_tag_t>(LDAP_RES_SEARCH_ENTRY),
                   dn.data(), static_cast<ber_len_t>(dn.size())));
  for (const auto& a : attrs) {
    check(ber_printf(ber, "{o[", a.type.data(), static_cast<ber_len_t>(a.type.size())));
    if (!types_only)
      for (const auto& v : a.values) check(ber_printf(ber, "o", v.data(), static_cast<ber_len_t>(v.size())));
    check(ber_printf(ber, "N]N}"));
  }
  check(ber_printf(ber, "N}N}N}"));
  return w.take();
}

std::string encode_notice_of_disconnection(Code code, std::string_view diagnostic) {
  return encode_extended_result(0, code, diagnostic, kNoticeOfDisconnection, std::nullopt);
}

std::string to_string(const Filter& f) {
  std::string out = "(";
  switch (f.kind) {
    case Filter::and_:
    case Filter::or_:
    case Filter::not_:
      out += f.kind == Filter::and_ ? '&' : f.kind == Filter::or_ ? '|' : '!';
      for (const auto& c : f.children) out += to_string(c);
      break;
    case Filter::present:
      out += f.attr + "=*";
      break;
    case Filter::substrings:
      out += f.attr + "=";
      if (f.initial) escape_value(out, *f.initial);
      out += '*';
      for (const auto& a : f.any) {
        escape_value(out, a);
        out += '*';
      }
      if (f.final_) escape_value(out, *f.final_);
      break;
    case Filter::extensible:
      out += f.attr;
      if (f.dn_attributes) out += ":dn";
      if (!f.rule.empty()) out += ":" + f.rule;
      out += ":=";
      escape_value(out, f.value);
      break;
    default:
      out += f.attr;
      out += f.kind == Filter::ge ? ">=" : f.kind == Filter::le ? "<=" : f.kind == Filter::approx ? "~=" : "=";
      escape_value(out, f.value);
  }
  return out + ")";
}

}  // namespace congvu::directory::ldap
