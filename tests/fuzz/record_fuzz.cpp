// Stored records are decoded from disk: a corrupt record must throw DecodeError, never read
// out of bounds. The first byte picks the decoder.
#include <cstdint>
#include <string>

#include "common/codec.hpp"
#include "directory/model.hpp"
#include "mailstore/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  using namespace congvu::directory;
  try {
    namespace ms = congvu::mailstore;
    switch (data[0] % 10) {
      case 6: {
        // A record written before first_recent existed gains it at the end; otherwise exact.
        auto m = ms::decode_mailbox(in);
        std::string again = ms::encode(m);
        if (again != in && (!again.starts_with(in) || ms::encode(ms::decode_mailbox(again)) != again)) __builtin_trap();
        break;
      }
      case 7: (void)ms::decode_message(std::string(12, 'k'), in); break;
      case 8: {
        auto b = ms::decode_blob(in);
        if (ms::encode(b) != in) __builtin_trap();
        break;
      }
      case 9: (void)ms::decode_usage(in); break;
      case 0: (void)decode_person(std::string(16, 'k'), in); break;
      case 1: (void)decode_unit(in); break;
      case 2: (void)decode_assignment(std::string(20, 'k'), in); break;
      case 3: (void)decode_group(in); break;
      case 4: (void)decode_credential(in); break;
      case 5: {
        auto r = decode_audit(in);
        // What decodes must encode back to the same bytes.
        if (encode(r) != in) __builtin_trap();
        break;
      }
    }
  } catch (const congvu::codec::DecodeError&) {
  }
  return 0;
}
