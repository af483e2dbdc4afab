// Folded-name search. Every person has one `name` index entry per folded token of the full
// name and one for the login: token + '\0' + id -> status + unit + '\0' + folded name + ' ' +
// login. A query is folded the same way; each query token must be a prefix of a distinct token
// of the person. The scan filters by status, unit subtree and the other tokens without loading records, so a query
// that matches a third of the province still stops after `limit` hits. When the query is
// restricted to a small subtree, the scan is driven by that subtree's member lists instead.
// The driver is the query token with the fewest candidates (from token_count). When it has few
// candidates, all are scored (exact token matches first, then by name); otherwise people whose
// token equals the driver come first and the scan stops after `limit` hits.
#include <algorithm>
#include <unordered_set>

#include "common/codec.hpp"
#include "common/text.hpp"
#include "directory/directory.hpp"

namespace congvu::directory {
namespace {

// Each query token (longest first) takes the first unused name token it is a prefix of.
bool tokens_match(const std::vector<std::string>& query, std::string_view name) {
  std::vector<std::string_view> toks;
  std::size_t start = 0;
  while (start <= name.size()) {
    auto end = name.find(' ', start);
    if (end == std::string_view::npos) end = name.size();
    if (end > start) toks.push_back(name.substr(start, end - start));
    start = end + 1;
  }
  std::vector<bool> used(toks.size(), false);
  for (const auto& q : query) {
    bool found = false;
    for (std::size_t i = 0; i < toks.size() && !found; ++i) {
      if (!used[i] && toks[i].substr(0, q.size()) == q) used[i] = found = true;
    }
    if (!found) return false;
  }
  return true;
}

// How many query tokens equal a token of the name (an exact "an" ranks above "anh").
int exact_matches(const std::vector<std::string>& query, std::string_view name) {
  int n = 0;
  for (const auto& q : query) {
    std::size_t pos = 0;
    while ((pos = name.find(q, pos)) != std::string_view::npos) {
      bool starts = pos == 0 || name[pos - 1] == ' ';
      bool ends = pos + q.size() == name.size() || name[pos + q.size()] == ' ';
      if (starts && ends) {
        ++n;
        break;
      }
      pos += 1;
    }
  }
  return n;
}

constexpr std::size_t kSmallSubtree = 64;
// Below this many candidates, every candidate is scored and the best `limit` returned; above
// it the scan streams exact-token matches first and stops at `limit`.
constexpr std::uint64_t kRankAll = 2000;

}  // namespace

std::vector<Person> Snapshot::search(const SearchQuery& q) {
  std::vector<Person> out;
  if (q.limit == 0) return out;
  auto tokens = text::fold_tokens(q.text);
  std::sort(tokens.begin(), tokens.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });

  std::unordered_set<std::string> units;
  bool by_unit = !q.unit.empty();
  if (by_unit) {
    auto tree = q.subtree ? subtree(q.unit) : std::vector<std::string>{q.unit};
    units.insert(tree.begin(), tree.end());
  }
  auto status_ok = [&](char s) { return !q.status || static_cast<char>(*q.status) == s; };

  if (tokens.empty() || (by_unit && units.size() <= kSmallSubtree)) {
    // Walk the members of the units (or, with no unit and no text, everyone).
    auto visit = [&](std::string_view prefix) {
      kv::scan_prefix(t_, by_unit ? schema::member : schema::person, prefix,
                      [&](std::string_view k, std::string_view v) {
        if (by_unit) {
          auto nul = v.find('\0', 1);
          if (v.empty() || nul == std::string_view::npos || !status_ok(v[0])) return true;
          if (!tokens.empty() && !tokens_match(tokens, v.substr(nul + 1))) return true;
          if (auto p = person(*PersonId::from_bytes(k.substr(k.size() - PersonId::kSize))))
            out.push_back(std::move(*p));
        } else {
          Person p = decode_person(k, v);
          if (status_ok(static_cast<char>(p.status))) out.push_back(std::move(p));
        }
        return out.size() < q.limit;
      });
    };
    if (!by_unit) {
      visit("");
    } else {
      for (const auto& u : subtree(q.unit)) {
        if (!units.count(u)) continue;
        visit(schema::join0(u, ""));
        if (out.size() >= q.limit) break;
      }
    }
    return out;
  }

  // Plan: phase 1 scans the people having exactly the query token that fewest people have
  // exactly (token_count); phase 2, when that gave fewer than `limit`, scans the prefix range of
  // the token with the fewest prefix candidates. A phase with few candidates scores them all
  // (exact matches first, then by name); a large one streams and stops at `limit`.
  auto count_exact = [&](const std::string& tok) -> std::uint64_t {
    auto v = t_.get(schema::token_count, tok);
    return v ? codec::get_be32(*v) : 0;
  };
  auto count_prefix = [&](const std::string& tok) {
    std::uint64_t n = 0;
    kv::scan_prefix(t_, schema::token_count, tok, [&](std::string_view, std::string_view v) {
      n += codec::get_be32(v);
      return n <= kRankAll;
    });
    return n;
  };
  struct Hit {
    int score;
    std::string folded;
    std::string id;
  };
  std::unordered_set<std::string> seen;
  auto phase = [&](const std::string& drv, bool exact_only, std::uint64_t estimate) {
    std::vector<Hit> hits;
    bool rank_all = estimate <= kRankAll;
    std::size_t want = q.limit - out.size();
    kv::scan_prefix(t_, schema::name, exact_only ? schema::join0(drv, "") : drv,
                    [&](std::string_view k, std::string_view v) {
      if (v.size() < 2 || !status_ok(v[0])) return true;
      auto nul = v.find('\0', 1);
      if (nul == std::string_view::npos) return true;
      if (by_unit && !units.count(std::string(v.substr(1, nul - 1)))) return true;
      auto name = v.substr(nul + 1);
      if (!tokens_match(tokens, name)) return true;
      auto id = k.substr(k.size() - PersonId::kSize);
      if (seen.count(std::string(id))) return true;
      seen.emplace(id);
      hits.push_back({exact_matches(tokens, name), std::string(name), std::string(id)});
      return rank_all || hits.size() < want;
    });
    if (rank_all)
      std::stable_sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
        if (a.score != b.score) return a.score > b.score;
      auto words = [](const std::string& n) { return std::count(n.begin(), n.end(), ' '); };
      if (words(a.folded) != words(b.folded)) return words(a.folded) < words(b.folded);
      // Same name: in order of creation (annv before annv2); the id is a UUIDv7.
      auto name_a = std::string_view(a.folded).substr(0, a.folded.rfind(' '));
      auto name_b = std::string_view(b.folded).substr(0, b.folded.rfind(' '));
      return name_a != name_b ? name_a < name_b : a.id < b.id;
      });
    if (hits.size() > want) hits.resize(want);
    for (const auto& h : hits)
      if (auto p = person(*PersonId::from_bytes(h.id))) out.push_back(std::move(*p));
  };

  // A word that begins no token of anyone: nothing can match.
  std::vector<std::uint64_t> prefix_counts;
  for (const auto& t : tokens) {
    prefix_counts.push_back(count_prefix(t));
    if (prefix_counts.back() == 0) return out;
  }
  std::size_t exact_drv = tokens.size();
  std::uint64_t exact_n = ~0ULL;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    auto n = count_exact(tokens[i]);
    if (n > 0 && n < exact_n) exact_n = n, exact_drv = i;
  }
  if (exact_drv < tokens.size()) phase(tokens[exact_drv], true, exact_n);
  if (out.size() < q.limit) {
    auto best = std::min_element(prefix_counts.begin(), prefix_counts.end());
    phase(tokens[static_cast<std::size_t>(best - prefix_counts.begin())], false, *best);
  }
  return out;
}

}  // namespace congvu::directory
