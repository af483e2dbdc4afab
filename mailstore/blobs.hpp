// Message bodies as immutable blobs, appended to segment files (DESIGN.md, "Storage"):
// one fdatasync per group commit instead of one per message, which is what lets a single disk
// accept tens of thousands of messages a second. The index (mail.mdb, table `blob`) maps a
// SHA-256 to (segment, offset, length); this class only writes and reads bytes.
//
// On disk: DIR/seg-00000001 ..., each a sequence of records "CVB1" + be64 length + 32-byte
// SHA-256 + the bytes. A process never appends to a segment it did not create, so the
// unsynced tail a crash may leave behind is never pointed at and is reclaimed by compaction.
//
// Durability contract: append() returns once the bytes are written (not yet durable); sync()
// returns once everything appended before the call is on disk. The mail store calls sync()
// before each index commit, so no index entry ever points at bytes a crash could lose.
// Thread-safety: every method may be called from any thread.
// Failures (disk full, I/O error, corrupt record) throw std::runtime_error naming the file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace congvu::mailstore {

struct BlobLocation {
  std::uint32_t segment = 0;
  std::uint64_t offset = 0;  // of the first byte of the data, after the record header
  std::uint64_t length = 0;
};

class BlobStore {
 public:
  static constexpr std::size_t kHeader = 4 + 8 + 32;
  virtual ~BlobStore() = default;
  virtual BlobLocation append(std::string_view sha256_raw, std::string_view data) = 0;
  virtual void sync() = 0;
  virtual std::string read(const BlobLocation& at) = 0;
  // The segment appends go to now; sealed segments have lower numbers.
  virtual std::uint32_t current_segment() = 0;
  virtual std::vector<std::uint32_t> segments() = 0;
  virtual std::uint64_t segment_size(std::uint32_t seg) = 0;
  // Removes a sealed segment (its blobs were moved or released); never the current one.
  virtual void remove_segment(std::uint32_t seg) = 0;
  // How many fdatasync calls this store made (for tests and metrics).
  virtual std::uint64_t syncs() const = 0;
};

struct SegmentOptions {
  std::uint64_t max_segment_bytes = 256ULL << 20;  // a new segment starts past this size
  bool read_only = false;  // admin commands reading beside a running server: no new segment
};

// Segment files under `dir` (created if needed). Starts a new segment on every open.
std::unique_ptr<BlobStore> open_segment_blobs(const std::string& dir, const SegmentOptions& opt = {});
// Blobs in memory, for transcript tests; sync() is a no-op that still counts.
std::unique_ptr<BlobStore> open_memory_blobs();

}  // namespace congvu::mailstore
