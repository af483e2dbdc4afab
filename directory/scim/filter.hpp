// SCIM filter expressions (RFC 7644 3.4.2.2): parsing into a tree, with the attribute paths
// resolved to the attributes this server can filter on (the ones with an index or a cheap
// reading; anything else is an invalidFilter error naming the attribute).
//
//   filter    = attrExp / filter SP ("and" / "or") SP filter / "not" "(" filter ")" / "(" filter ")"
//               / attrPath "[" valFilter "]"
//   attrExp   = attrPath SP "pr" / attrPath SP compareOp SP compValue
//   compareOp = eq / ne / co / sw / ew / gt / ge / lt / le   (case-insensitive)
//   compValue = false / null / true / number / string (JSON)
// "and" binds tighter than "or". Limits: 4 KiB of text, 64 levels, 256 comparisons.
// Pure functions.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace congvu::directory::scim {

inline constexpr const char* kUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
inline constexpr const char* kGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";
inline constexpr const char* kEnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
inline constexpr const char* kCongvuUserSchema = "urn:congvu:params:scim:schemas:extension:2.0:User";
inline constexpr const char* kCongvuGroupSchema = "urn:congvu:params:scim:schemas:extension:2.0:Group";

// The attributes filters and sortBy may name, after resolution (schema URNs and case removed).
enum class Attr {
  id, external_id, user_name, display_name, name_formatted, family_name, given_name, middle_name,
  emails, email_type, email_primary, title, active, employee_number, unit_code, position, status,
  created, last_modified,
  // Groups
  group_members,
};

enum class Op { eq, ne, co, sw, ew, gt, ge, lt, le, pr };

struct Value {
  enum Type { string, boolean, null, number } type = string;
  std::string text;  // the string, "true"/"false", or the number as written
  std::string folded;  // text::fold(text) for strings: what case-insensitive comparisons use
};

struct Filter {
  enum Kind { and_, or_, not_, compare, value_path } kind = compare;
  Attr attr = Attr::id;     // compare (value_path: the multi-valued attribute, emails or members)
  Op op = Op::eq;
  Value value;
  std::unique_ptr<Filter> left, right;  // and/or; not and value_path use left
};

enum class Resource { user, group };

// Errors: invalid_argument with a message fit for the SCIM error's detail.
Result<std::unique_ptr<Filter>> parse_filter(std::string_view text, Resource r);

// Compares a stored value with a filter's value, both already folded (or both exact) by `op`
// (not pr: the caller knows whether a value is present).
bool compare_text(std::string_view have, Op op, std::string_view want);

// Resolves an attribute path ("userName", "name.familyName", "urn:...:enterprise:2.0:User:employeeNumber")
// for filters and sortBy; nullopt when the server cannot filter or sort on it.
std::optional<Attr> resolve_attr(std::string_view path, Resource r);

}  // namespace congvu::directory::scim
