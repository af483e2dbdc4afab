// The message header parser, address lists, unfolding and the DKIM canonical forms over
// arbitrary bytes: no crash, and the invariants hold (fields lie inside the input and in
// order, the relaxed forms are idempotent).
#include <cstdint>
#include <string>

#include "smtp/dkim.hpp"
#include "smtp/proto/header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  using namespace congvu::smtp;
  proto::HeaderError err;
  if (auto h = proto::parse_header_section(in, &err, 200)) {
    const char* last = in.data();
    for (const auto& f : h->fields) {
      if (f.raw.data() < last || f.raw.data() + f.raw.size() > in.data() + in.size()) __builtin_trap();
      if (f.name.data() != f.raw.data()) __builtin_trap();
      last = f.raw.data() + f.raw.size();
      (void)proto::parse_address_list(proto::unfold(f.value));
      std::string c = dkim_relaxed_header(f.name, f.value);
      if (c.size() < 3 || c.compare(c.size() - 2, 2, "\r\n") != 0) __builtin_trap();
    }
    if (h->body_offset > in.size()) __builtin_trap();
    std::string body = dkim_relaxed_body(in.substr(h->body_offset));
    if (dkim_relaxed_body(body) != body) __builtin_trap();
  } else if (err.line == 0 || err.reason.empty()) {
    __builtin_trap();
  }
  return 0;
}
