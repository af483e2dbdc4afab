// The typed forms of SEARCH, SORT and THREAD (RFC 9051 6.4.4, ESEARCH RFC 4731, SEARCHRES RFC
// 5182, CONDSTORE MODSEQ RFC 7162, SORT/THREAD RFC 5256, ESORT and CONTEXT=SEARCH RFC 5267,
// PARTIAL RFC 9394): the parser reads the grammar into a tree, the session evaluates it. Text
// arguments stay as written (the session folds them for its diacritic-insensitive match).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "imap/proto/command.hpp"

namespace congvu::imap::proto {

enum class SystemFlag : std::uint8_t { answered, flagged, deleted, seen, draft };

struct SearchKey {
  enum Kind { all, none, flag_on, flag_off, keyword, unkeyword, header, body, text, before, on, since, sentbefore,
              senton, sentsince, larger, smaller, uids, msns, not_, or_, and_, modseq, recent } kind = all;
  SystemFlag flag = SystemFlag::seen;
  std::string a, b;  // header name (upper case) or keyword, and the string searched for
  std::int64_t n = 0;  // days since 1970 (dates), octets (LARGER/SMALLER), MODSEQ
  SeqSet set;
  std::vector<SearchKey> kids;
  bool uses(Kind k) const;
};

// RFC 9394 partial-range: "1:100" (first hundred) or "-1:-100" (last hundred), 1-based.
struct PartialRange {
  std::int64_t lo = 0, hi = 0;  // lo <= hi in magnitude; negative counts from the end
  std::string text() const;
  // The 0-based [first, last] indexes into `n` results; nullopt when the range selects none.
  std::optional<std::pair<std::size_t, std::size_t>> within(std::size_t n) const;
};

// "-1:-100" or "1:100", the two ends in either order.
PartialRange parse_partial_range(Parser& p);

// RETURN (...) of SEARCH and SORT.
struct SearchReturn {
  bool given = false;  // RETURN was written: answer with ESEARCH
  bool min = false, max = false, count = false, all = false, save = false;
  bool update = false, context = false;  // RFC 5267
  std::optional<PartialRange> partial;   // RFC 9394
  bool any_result() const { return min || max || count || all || partial; }
};

struct SearchCommand {
  SearchReturn ret;
  std::optional<std::string> charset;
  SearchKey root;  // an and_ of the keys as written
};

struct SortCriterion {
  enum Key { arrival, cc, date, from, size, subject, to, displayfrom, displayto } key = arrival;
  bool reverse = false;
};

struct SortCommand {
  SearchReturn ret;
  std::vector<SortCriterion> criteria;
  std::string charset;
  SearchKey root;
};

struct ThreadCommand {
  std::string algorithm;  // REFERENCES, ORDEREDSUBJECT (upper case)
  std::string charset;
  SearchKey root;
};

// Each reads from the first argument after the command name to the end of the command.
SearchCommand parse_search(Parser& p);
SortCommand parse_sort(Parser& p);
ThreadCommand parse_thread(Parser& p);
// The search keys alone, to the end of the command (an and_ of them).
SearchKey parse_search_keys(Parser& p);

}  // namespace congvu::imap::proto
