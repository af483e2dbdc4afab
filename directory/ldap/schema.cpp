#include "directory/ldap/schema.hpp"

#include <array>
#include <cctype>
#include <stdexcept>

#include "common/codec.hpp"
#include "common/text.hpp"

namespace congvu::directory::ldap {
namespace {

// Congvu's own attributes and classes live under this arc (a private-enterprise placeholder,
// documented in directory/README.md; change it together with any deployed schema copies).
#define CONGVU_ARC "1.3.6.1.4.1.99999.7"

constexpr std::array<AttrType, kAttrCount> kTypes = {{
    {Attr::objectClass, "objectClass", "2.5.4.0", Syntax::oid, false, false},
    {Attr::cn, "cn", "2.5.4.3", Syntax::name, false, false},
    {Attr::sn, "sn", "2.5.4.4", Syntax::name, false, false},
    {Attr::givenName, "givenName", "2.5.4.42", Syntax::name, false, false},
    {Attr::displayName, "displayName", "2.16.840.1.113730.3.1.241", Syntax::name, false, false},
    {Attr::uid, "uid", "0.9.2342.19200300.100.1.1", Syntax::ia5, false, false},
    {Attr::mail, "mail", "0.9.2342.19200300.100.1.3", Syntax::ia5, false, false},
    {Attr::title, "title", "2.5.4.12", Syntax::name, false, false},
    {Attr::ou, "ou", "2.5.4.11", Syntax::name, false, false},
    {Attr::o, "o", "2.5.4.10", Syntax::name, false, false},
    {Attr::dc, "dc", "0.9.2342.19200300.100.1.25", Syntax::ia5, false, false},
    {Attr::description, "description", "2.5.4.13", Syntax::name, false, false},
    {Attr::departmentNumber, "departmentNumber", "2.16.840.1.113730.3.1.2", Syntax::exact, false, false},
    {Attr::employeeNumber, "employeeNumber", "2.16.840.1.113730.3.1.3", Syntax::exact, false, true},
    {Attr::member, "member", "2.5.4.31", Syntax::dn, false, false},
    {Attr::memberOf, "memberOf", "1.2.840.113556.1.2.102", Syntax::dn, true, false},
    {Attr::entryUUID, "entryUUID", "1.3.6.1.1.16.4", Syntax::exact, true, false},
    {Attr::congvuId, "congvuId", CONGVU_ARC ".1.1", Syntax::exact, false, false},
    {Attr::congvuUnitCode, "congvuUnitCode", CONGVU_ARC ".1.2", Syntax::exact, false, false},
    {Attr::congvuPosition, "congvuPosition", CONGVU_ARC ".1.3", Syntax::name, false, false},
    {Attr::congvuStatus, "congvuStatus", CONGVU_ARC ".1.4", Syntax::exact, false, false},
    {Attr::congvuBirthDate, "congvuBirthDate", CONGVU_ARC ".1.5", Syntax::exact, false, true},
    {Attr::congvuGender, "congvuGender", CONGVU_ARC ".1.6", Syntax::exact, false, true},
    {Attr::createTimestamp, "createTimestamp", "2.5.18.1", Syntax::time, true, false},
    {Attr::modifyTimestamp, "modifyTimestamp", "2.5.18.2", Syntax::time, true, false},
    {Attr::entryDN, "entryDN", "1.3.6.1.1.20", Syntax::dn, true, false},
    {Attr::hasSubordinates, "hasSubordinates", "2.5.18.9", Syntax::boolean, true, false},
    {Attr::subschemaSubentry, "subschemaSubentry", "2.5.18.10", Syntax::dn, true, false},
    {Attr::structuralObjectClass, "structuralObjectClass", "2.5.21.9", Syntax::oid, true, false},
    {Attr::userPassword, "userPassword", "2.5.4.35", Syntax::exact, false, false},
    {Attr::name, "name", "2.5.4.41", Syntax::name, false, false},
}};

struct Alias {
  const char* name;
  Attr id;
};
constexpr Alias kAliases[] = {
    {"commonName", Attr::cn}, {"surname", Attr::sn}, {"gn", Attr::givenName}, {"userid", Attr::uid},
    {"rfc822Mailbox", Attr::mail}, {"organizationName", Attr::o}, {"organizationalUnitName", Attr::ou},
    {"domainComponent", Attr::dc},
};

const char* syntax_oid(Syntax s) {
  switch (s) {
    case Syntax::name: return "1.3.6.1.4.1.1466.115.121.1.15";
    case Syntax::ia5: return "1.3.6.1.4.1.1466.115.121.1.26";
    case Syntax::dn: return "1.3.6.1.4.1.1466.115.121.1.12";
    case Syntax::exact: return "1.3.6.1.4.1.1466.115.121.1.15";
    case Syntax::integer: return "1.3.6.1.4.1.1466.115.121.1.27";
    case Syntax::time: return "1.3.6.1.4.1.1466.115.121.1.24";
    case Syntax::boolean: return "1.3.6.1.4.1.1466.115.121.1.7";
    case Syntax::oid: return "1.3.6.1.4.1.1466.115.121.1.38";
  }
  return "";
}

const char* matching(Syntax s) {
  switch (s) {
    case Syntax::name: return " EQUALITY caseIgnoreMatch ORDERING caseIgnoreOrderingMatch SUBSTR caseIgnoreSubstringsMatch";
    case Syntax::ia5: return " EQUALITY caseIgnoreIA5Match SUBSTR caseIgnoreIA5SubstringsMatch";
    case Syntax::dn: return " EQUALITY distinguishedNameMatch";
    case Syntax::exact: return " EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch";
    case Syntax::integer: return " EQUALITY integerMatch ORDERING integerOrderingMatch";
    case Syntax::time: return " EQUALITY generalizedTimeMatch ORDERING generalizedTimeOrderingMatch";
    case Syntax::boolean: return " EQUALITY booleanMatch";
    case Syntax::oid: return " EQUALITY objectIdentifierMatch";
  }
  return "";
}

}  // namespace

const AttrType& attr_type(Attr a) {
  if (a == Attr::unknown) throw std::out_of_range("attr_type(unknown)");
  return kTypes[static_cast<std::size_t>(a)];
}

Attr find_attr(std::string_view d) {
  auto semi = d.find(';');
  if (semi != std::string_view::npos) d = d.substr(0, semi);
  std::string lower = text::ascii_lower(d);
  for (const auto& t : kTypes)
    if (lower == text::ascii_lower(t.name) || lower == t.oid) return t.id;
  for (const auto& a : kAliases)
    if (lower == text::ascii_lower(a.name)) return a.id;
  return Attr::unknown;
}

std::string normalize(Syntax syntax, std::string_view v) {
  switch (syntax) {
    case Syntax::name: return text::fold(v);
    case Syntax::dn: {
      auto n = normalize_dn(v);
      return n ? *n : text::ascii_lower(v);
    }
    case Syntax::integer:
    case Syntax::time: return text::squeeze(v);
    case Syntax::boolean: {
      std::string s = text::squeeze(v);
      for (auto& c : s) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
      return s;
    }
    default: return text::ascii_lower(text::squeeze(v));
  }
}

namespace {

bool trim_space(std::string_view& s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ' && !(s.size() >= 2 && s[s.size() - 2] == '\\')) s.remove_suffix(1);
  return !s.empty();
}

}  // namespace

std::optional<std::vector<Rdn>> parse_dn(std::string_view dn) {
  std::vector<Rdn> out;
  if (trim_space(dn) == false) return out;  // the empty DN (the root DSE)
  if (dn.size() > 4096) return std::nullopt;
  std::size_t i = 0;
  while (i <= dn.size()) {
    // attribute type
    auto eq = dn.find('=', i);
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view type = dn.substr(i, eq - i);
    if (!trim_space(type)) return std::nullopt;
    for (char c : type)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return std::nullopt;
    // value, up to an unescaped ',' (or ';', the old separator)
    std::string value;
    std::size_t j = eq + 1;
    while (j < dn.size() && dn[j] == ' ') ++j;
    if (j < dn.size() && dn[j] == '#') return std::nullopt;  // BER-encoded values: not served
    std::size_t trailing = 0;  // unescaped trailing spaces to drop
    for (; j < dn.size(); ++j) {
      char c = dn[j];
      if (c == ',' || c == ';') break;
      if (c == '+') return std::nullopt;  // multi-valued RDNs: nothing here has them
      if (c == '\\') {
        if (j + 1 >= dn.size()) return std::nullopt;
        int h = codec::hex_digit(dn[j + 1]), l = j + 2 < dn.size() ? codec::hex_digit(dn[j + 2]) : -1;
        if (h >= 0 && l >= 0) {
          value += static_cast<char>(h * 16 + l);
          j += 2;
        } else {
          char e = dn[j + 1];
          if (std::string_view(" \"#+,;<=>\\").find(e) == std::string_view::npos) return std::nullopt;
          value += e;
          ++j;
        }
        trailing = 0;
        continue;
      }
      if (c == '"' || c == '<' || c == '>' || c == '=') return std::nullopt;
      value += c;
      trailing = c == ' ' ? trailing + 1 : 0;
    }
    value.resize(value.size() - trailing);
    if (!text::valid_utf8(value)) return std::nullopt;
    Attr a = find_attr(type);
    Rdn r;
    r.attr = a == Attr::unknown ? text::ascii_lower(type) : text::ascii_lower(attr_type(a).name);
    // A DN-valued RDN would recurse: compared as a plain string.
    Syntax syn = a == Attr::unknown || attr_type(a).syntax == Syntax::dn ? Syntax::exact : attr_type(a).syntax;
    r.value = normalize(syn, value);
    out.push_back(std::move(r));
    if (j >= dn.size()) break;
    i = j + 1;
    if (out.size() > 64) return std::nullopt;
  }
  return out;
}

std::string escape_dn_value(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    bool special = std::string_view(",+\"\\<>;=").find(c) != std::string_view::npos || c == '\0' ||
                   ((i == 0) && (c == ' ' || c == '#')) || (i + 1 == v.size() && c == ' ');
    if (special) out += '\\';
    out += c;
  }
  return out;
}

std::optional<std::string> normalize_dn(std::string_view dn) {
  auto rdns = parse_dn(dn);
  if (!rdns) return std::nullopt;
  std::string out;
  for (const auto& r : *rdns) {
    if (!out.empty()) out += ',';
    out += r.attr;
    out += '=';
    out += escape_dn_value(r.value);
  }
  return out;
}

std::vector<std::string> schema_attribute_types() {
  std::vector<std::string> out;
  for (const auto& t : kTypes) {
    std::string names = "'" + std::string(t.name) + "'";
    for (const auto& a : kAliases)
      if (a.id == t.id) names += " '" + std::string(a.name) + "'";
    bool multi = names.find(' ') != std::string::npos;
    std::string d = "( " + std::string(t.oid) + " NAME " + (multi ? "( " + names + " )" : names) +
                    matching(t.syntax) + " SYNTAX " + syntax_oid(t.syntax);
    if (t.id == Attr::entryUUID || t.id == Attr::createTimestamp || t.id == Attr::modifyTimestamp ||
        t.id == Attr::hasSubordinates || t.id == Attr::subschemaSubentry || t.id == Attr::structuralObjectClass ||
        t.id == Attr::entryDN || t.id == Attr::displayName || t.id == Attr::congvuId || t.id == Attr::congvuStatus ||
        t.id == Attr::congvuUnitCode)
      d += " SINGLE-VALUE";
    if (t.operational) d += " NO-USER-MODIFICATION USAGE directoryOperation";
    out.push_back(d + " )");
  }
  return out;
}

std::vector<std::string> schema_object_classes() {
  return {
      "( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )",
      "( 2.5.6.6 NAME 'person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY ( userPassword $ description ) )",
      "( 2.5.6.7 NAME 'organizationalPerson' SUP person STRUCTURAL MAY ( title $ ou ) )",
      // One definition over two lines (concatenated).
      "( 2.16.840.1.113730.3.2.2 NAME 'inetOrgPerson' SUP organizationalPerson STRUCTURAL MAY ( departmentNumber $ "  // NOLINT(bugprone-suspicious-missing-comma)
      "displayName $ employeeNumber $ givenName $ mail $ uid $ o ) )",
      "( 2.5.6.4 NAME 'organization' SUP top STRUCTURAL MUST o MAY description )",
      "( 2.5.6.5 NAME 'organizationalUnit' SUP top STRUCTURAL MUST ou MAY description )",
      "( 1.3.6.1.4.1.1466.344 NAME 'dcObject' SUP top AUXILIARY MUST dc )",
      "( 2.5.6.9 NAME 'groupOfNames' SUP top STRUCTURAL MUST cn MAY ( member $ description $ o $ ou ) )",
      "( 2.5.20.1 NAME 'subschema' AUXILIARY MAY ( attributeTypes $ objectClasses $ ldapSyntaxes $ matchingRules ) )",
      "( 2.5.17.0 NAME 'subentry' SUP top STRUCTURAL MUST cn )",
      "( " CONGVU_ARC ".2.1 NAME 'congvuPerson' DESC 'a civil servant of Congvu' SUP top AUXILIARY MAY ( congvuId $ "
      "congvuUnitCode $ congvuPosition $ congvuStatus $ congvuBirthDate $ congvuGender ) )",
      "( " CONGVU_ARC ".2.2 NAME 'congvuUnit' DESC 'a unit and its official address' SUP top AUXILIARY MAY ( "
      "congvuUnitCode $ mail ) )",
      "( " CONGVU_ARC ".2.3 NAME 'congvuGroup' DESC 'a list with an address' SUP top AUXILIARY MAY mail )",
  };
}

std::vector<std::string> schema_syntaxes() {
  return {
      "( 1.3.6.1.4.1.1466.115.121.1.7 DESC 'Boolean' )",
      "( 1.3.6.1.4.1.1466.115.121.1.12 DESC 'Distinguished Name' )",
      "( 1.3.6.1.4.1.1466.115.121.1.15 DESC 'Directory String' )",
      "( 1.3.6.1.4.1.1466.115.121.1.24 DESC 'Generalized Time' )",
      "( 1.3.6.1.4.1.1466.115.121.1.26 DESC 'IA5 String' )",
      "( 1.3.6.1.4.1.1466.115.121.1.27 DESC 'INTEGER' )",
      "( 1.3.6.1.4.1.1466.115.121.1.38 DESC 'OID' )",
  };
}

std::vector<std::string> schema_matching_rules() {
  return {
      "( 2.5.13.0 NAME 'objectIdentifierMatch' SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 )",
      "( 2.5.13.1 NAME 'distinguishedNameMatch' SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )",
      "( 2.5.13.2 NAME 'caseIgnoreMatch' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
      "( 2.5.13.3 NAME 'caseIgnoreOrderingMatch' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
      "( 2.5.13.4 NAME 'caseIgnoreSubstringsMatch' SYNTAX 1.3.6.1.4.1.1466.115.121.1.58 )",
      "( 2.5.13.5 NAME 'caseExactMatch' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
      "( 2.5.13.13 NAME 'booleanMatch' SYNTAX 1.3.6.1.4.1.1466.115.121.1.7 )",
      "( 2.5.13.14 NAME 'integerMatch' SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 )",
      "( 2.5.13.15 NAME 'integerOrderingMatch' SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 )",
      "( 2.5.13.27 NAME 'generalizedTimeMatch' SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 )",
      "( 2.5.13.28 NAME 'generalizedTimeOrderingMatch' SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 )",
      "( 1.3.6.1.4.1.1466.109.114.1 NAME 'caseExactIA5Match' SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )",
      "( 1.3.6.1.4.1.1466.109.114.2 NAME 'caseIgnoreIA5Match' SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )",
      "( 1.3.6.1.4.1.1466.109.114.3 NAME 'caseIgnoreIA5SubstringsMatch' SYNTAX 1.3.6.1.4.1.1466.115.121.1.58 )",
  };
}

}  // namespace congvu::directory::ldap
