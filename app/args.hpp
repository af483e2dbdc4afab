// Command-line arguments of one subcommand: positionals and --options, checked against what
// the subcommand declares, so a typo is an error that names the option, never ignored.
#pragma once

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace congvu::app {

// A usage error: main() prints it with the subcommand's usage and exits 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  // `valued`: options that take a value (--data DIR); `flags`: options that do not (--json).
  // Repeated valued options accumulate (--position A --position B).
  Args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
       const std::set<std::string>& flags);

  bool flag(const std::string& name) const { return flags_.count(name) != 0; }
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  std::string require(const std::string& name) const;
  std::vector<std::string> all(const std::string& name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }
  // The n-th positional or a UsageError naming `what`.
  std::string positional(std::size_t n, const std::string& what) const;
  void max_positionals(std::size_t n) const;

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::set<std::string> flags_;
  std::vector<std::string> positionals_;
};

// "a,b" "c" -> {"a", "b", "c"}: options that take comma-separated lists and may repeat.
std::vector<std::string> split_commas(const std::vector<std::string>& values);

}  // namespace congvu::app
