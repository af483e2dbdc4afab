// Both kv::Store implementations for parameterised tests: every contract test and every
// directory test runs against LMDB (a real file) and the in-memory store.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/kv/kv.hpp"
#include "tests/support/tmpdir.hpp"

namespace congvu::test {

enum class Backend { lmdb, memory };

inline std::string backend_name(const testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::lmdb ? "Lmdb" : "Memory";
}

class StoreHolder {
 public:
  StoreHolder(Backend b, const std::vector<std::string>& tables) {
    if (b == Backend::lmdb) {
      kv::LmdbOptions o;
      o.map_size = 1ULL << 30;
      store_ = kv::open_lmdb(dir_.path() + "/test.mdb", tables, o);
    } else {
      store_ = kv::open_memory(tables);
    }
  }
  kv::Store& store() { return *store_; }
  const std::string& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  std::unique_ptr<kv::Store> store_;
};

}  // namespace congvu::test
