// In-process directory reads on a real LMDB file prepared by run_benchmarks.py
// (CONGVU_BENCH_DATA): lookup by address and by login, and folded-name search with limit 50.
// Each iteration opens its own read transaction, as a request handler would.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>

#include "directory/directory.hpp"

namespace {

using namespace congvu;
using namespace congvu::directory;

struct Fixture {
  std::unique_ptr<kv::Store> store;
  std::unique_ptr<Directory> dir;
  std::vector<std::string> addresses, logins;

  Fixture() {
    const char* data = std::getenv("CONGVU_BENCH_DATA");
    if (!data) throw std::runtime_error("set CONGVU_BENCH_DATA to a data folder");
    store = open_store(data, 65536);
    dir = std::make_unique<Directory>(*store, Settings{});
    auto all = dir->read([](Snapshot& s) {
      SearchQuery q{""};
      q.status.reset();
      q.limit = 1000000;
      return s.search(q);
    });
    std::mt19937 rng(7);
    std::shuffle(all.begin(), all.end(), rng);
    for (std::size_t i = 0; i < all.size() && i < 4096; ++i) {
      addresses.push_back(all[i].address);
      logins.push_back(all[i].login);
    }
  }
};

Fixture& fx() {
  static Fixture f;
  return f;
}

void BM_LookupByAddress(benchmark::State& st) {
  auto& f = fx();
  std::size_t i = 0;
  for (auto _ : st) {
    const auto& a = f.addresses[i++ % f.addresses.size()];
    auto p = f.dir->read([&](Snapshot& s) { return s.resolve(a); });
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_LookupByAddress);

void BM_LookupByLogin(benchmark::State& st) {
  auto& f = fx();
  std::size_t i = 0;
  for (auto _ : st) {
    const auto& l = f.logins[i++ % f.logins.size()];
    auto p = f.dir->read([&](Snapshot& s) { return s.by_login(l); });
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_LookupByLogin);

void BM_Search(benchmark::State& st, const char* text, const char* unit) {
  auto& f = fx();
  SearchQuery q{text};
  q.unit = unit;
  q.limit = 50;
  std::size_t hits = 0;
  for (auto _ : st) {
    auto r = f.dir->read([&](Snapshot& s) { return s.search(q); });
    hits = r.size();
    benchmark::DoNotOptimize(r);
  }
  st.counters["hits"] = static_cast<double>(hits);
}
BENCHMARK_CAPTURE(BM_Search, nguyen, "nguyen", "");
BENCHMARK_CAPTURE(BM_Search, nguyen_van_an, "nguyen van an", "");
BENCHMARK_CAPTURE(BM_Search, an_nguyen, "an nguyen", "");
BENCHMARK_CAPTURE(BM_Search, prefix_ngu, "ngu", "");
BENCHMARK_CAPTURE(BM_Search, rare_prefix_kh, "kh", "");
BENCHMARK_CAPTURE(BM_Search, no_match, "nguyen van zzz", "");
BENCHMARK_CAPTURE(BM_Search, nguyen_in_department, "nguyen", "000.00.02.H99");

}  // namespace

BENCHMARK_MAIN();
