// The LDAPv3 wire layer (RFC 4511), sans I/O: framing of whole PDUs in a byte buffer, decoding
// of requests into plain structs and encoding of responses, on liblber's BER codec (the one
// slapd and libldap use). Nothing here reads a socket, the clock or the directory.
//
// Limits are enforced while decoding: a PDU longer than the caller's limit is refused before
// it is buffered (frame() says so from its first bytes), filters may nest at most kMaxDepth
// levels and hold at most kMaxFilterItems items, and a substring filter at most
// kMaxSubstrings components. A PDU that breaks the encoding rules is `malformed` (the server
// answers with a Notice of Disconnection, RFC 4511 4.1.1); one that is well formed but over a
// filter limit decodes with `limit` set (the server answers adminLimitExceeded and goes on).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace congvu::directory::ldap {

// RFC 4511 Appendix A result codes (those Congvu sends).
enum class Code : int {
  success = 0, operations_error = 1, protocol_error = 2, time_limit_exceeded = 3, size_limit_exceeded = 4,
  compare_false = 5, compare_true = 6, auth_method_not_supported = 7, stronger_auth_required = 8,
  admin_limit_exceeded = 11, unavailable_critical_extension = 12, confidentiality_required = 13,
  sasl_bind_in_progress = 14, no_such_attribute = 16, undefined_attribute_type = 17,
  inappropriate_matching = 18, no_such_object = 32, invalid_dn_syntax = 34,
  inappropriate_authentication = 48, invalid_credentials = 49, insufficient_access_rights = 50,
  busy = 51, unavailable = 52, unwilling_to_perform = 53, other = 80,
};

constexpr int kMaxDepth = 32;
constexpr std::size_t kMaxFilterItems = 512;
constexpr std::size_t kMaxSubstrings = 32;

// Filter (RFC 4511 4.5.1.7). Assertion values are kept as sent; matching (filter.hpp) folds
// them per attribute.
struct Filter {
  enum Kind : std::uint8_t { and_, or_, not_, equality, substrings, ge, le, present, approx, extensible };
  Kind kind = present;
  std::string attr;   // attribute description (may be empty for an extensible match)
  std::string value;  // equality, ge, le, approx, extensible
  // substrings
  std::optional<std::string> initial, final_;
  std::vector<std::string> any;
  // extensible
  std::string rule;
  bool dn_attributes = false;
  std::vector<Filter> children;  // and, or (any number), not (one)
};
// The RFC 4515 string form, for logs and tests.
std::string to_string(const Filter& f);

struct Control {
  std::string oid;
  bool critical = false;
  std::optional<std::string> value;
};

struct BindRequest {
  int version = 3;
  std::string name;
  bool sasl = false;
  std::string password;                    // simple
  std::string mechanism;                   // sasl
  std::optional<std::string> credentials;  // sasl
};
struct UnbindRequest {};
struct SearchRequest {
  std::string base;
  int scope = 2;  // 0 base, 1 one level, 2 subtree
  int deref = 0;
  std::int64_t size_limit = 0, time_limit = 0;
  bool types_only = false;
  Filter filter;
  std::vector<std::string> attributes;
};
struct CompareRequest {
  std::string dn, attr, value;
};
struct AbandonRequest {
  int id = 0;
};
struct ExtendedRequest {
  std::string oid;
  std::optional<std::string> value;
};
// Modify, Add, Delete, ModifyDN: recognised and refused (the directory is read-only over LDAP).
struct WriteRequest {
  int response_tag = 0;  // the tag of the response to send
};

using Operation = std::variant<BindRequest, UnbindRequest, SearchRequest, CompareRequest, AbandonRequest,
                               ExtendedRequest, WriteRequest>;

struct Message {
  int id = 0;
  Operation op;
  std::vector<Control> controls;
  std::string limit;  // set when a filter limit was exceeded: why (the op is not usable)
};

// How many bytes the first PDU of `buf` takes: 0 while incomplete, or an error.
struct Frame {
  enum Kind { need_more, ready, malformed, too_large } kind = need_more;
  std::size_t size = 0;  // ready: the PDU's length
};
Frame frame(std::string_view buf, std::size_t max_pdu);

// Decodes one whole PDU; nullopt when malformed.
std::optional<Message> decode(std::string_view pdu);

// Well-known OIDs.
inline constexpr const char* kStartTls = "1.3.6.1.4.1.1466.20037";
inline constexpr const char* kWhoAmI = "1.3.6.1.4.1.4203.1.11.3";
inline constexpr const char* kNoticeOfDisconnection = "1.3.6.1.4.1.1466.20036";
inline constexpr const char* kPagedResults = "1.2.840.113556.1.4.319";
inline constexpr const char* kSortRequest = "1.2.840.113556.1.4.473";
inline constexpr const char* kSortResponse = "1.2.840.113556.1.4.474";

// Control values.
struct PagedResults {
  std::int64_t size = 0;
  std::string cookie;
};
std::optional<PagedResults> decode_paged(std::string_view value);
std::string encode_paged(std::int64_t estimate, std::string_view cookie);

struct SortKey {
  std::string attr, rule;
  bool reverse = false;
};
std::optional<std::vector<SortKey>> decode_sort(std::string_view value);
std::string encode_sort_result(Code code);

// Responses. `tag` is the response's protocolOp tag (ldap.h LDAP_RES_*).
struct Attribute {
  std::string type;
  std::vector<std::string> values;
};
std::string encode_result(int id, int tag, Code code, std::string_view matched, std::string_view diagnostic,
                          const std::vector<Control>& controls = {});
std::string encode_bind_result(int id, Code code, std::string_view diagnostic,
                               const std::optional<std::string>& sasl_credentials = std::nullopt);
std::string encode_extended_result(int id, Code code, std::string_view diagnostic, std::string_view oid,
                                   const std::optional<std::string>& value);
std::string encode_entry(int id, std::string_view dn, const std::vector<Attribute>& attrs, bool types_only);
std::string encode_notice_of_disconnection(Code code, std::string_view diagnostic);

}  // namespace congvu::directory::ldap
