// How fast a message's MIME structure is summarised at delivery (mailstore::mime::summarize:
// header, structure, ENVELOPE, BODYSTRUCTURE and sort keys), in bytes per second:
//   - the 400 Vietnamese messages of the shared province (median 6 KB, mostly single parts),
//   - one 10 MB message with a 9 MB base64 attachment and a nested multipart/alternative.
// The goal is 100 MB/s or more. Run: ./dev bench mime (or build/bench/tests/bench/mime_bench).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "mailstore/mime.hpp"

namespace {

std::vector<std::string> province() {
  std::vector<std::string> out;
  std::string dir = std::string(CONGVU_SOURCE_DIR) + "/../shared/data/province/mail";
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream f(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    out.push_back(ss.str());
  }
  return out;
}

std::string big() {
  std::string m = "From: =?utf-8?b?Tmd1eeG7hW4gVsSDbiBBbg==?= <annv@tinhmau.gov.test>\r\nTo: all@tinhmau.gov.test\r\n"
                  "Subject: =?utf-8?q?B=C3=A1o_c=C3=A1o?=\r\nMIME-Version: 1.0\r\n"
                  "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\n"
                  "Content-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n--inner\r\n"
                  "Content-Type: text/plain; charset=utf-8\r\n\r\nKính gửi các đơn vị.\r\n--inner\r\n"
                  "Content-Type: text/html; charset=utf-8\r\n\r\n<p>Kính gửi các đơn vị.</p>\r\n--inner--\r\n--outer\r\n"
                  "Content-Type: application/pdf; name=\"bao-cao.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  std::string line(76, 'Q');
  while (m.size() < 10u << 20) m += line + "\r\n";
  return m + "--outer--\r\n";
}

void BM_SummarizeProvince(benchmark::State& st) {
  static const auto msgs = province();
  std::size_t bytes = 0;
  for (auto _ : st) {
    for (const auto& m : msgs) {
      benchmark::DoNotOptimize(congvu::mailstore::mime::summarize(m));
      bytes += m.size();
    }
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_SummarizeProvince)->Unit(benchmark::kMillisecond);

void BM_SummarizeLargeAttachment(benchmark::State& st) {
  static const std::string m = big();
  for (auto _ : st) benchmark::DoNotOptimize(congvu::mailstore::mime::summarize(m));
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * m.size()));
}
BENCHMARK(BM_SummarizeLargeAttachment)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
