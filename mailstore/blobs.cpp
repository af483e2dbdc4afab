#include "mailstore/blobs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <system_error>

#include "common/codec.hpp"

namespace congvu::mailstore {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  // std::generic_category() uses strerror_r: strerror is not thread-safe.
  throw std::runtime_error(path + ": " + what + ": " + std::generic_category().message(errno));
}

std::string segment_name(std::uint32_t seg) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "seg-%08u", seg);
  return buf;
}

void write_all(int fd, std::string_view bytes, std::uint64_t offset, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write", path);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
}

class SegmentBlobs final : public BlobStore {
 public:
  SegmentBlobs(std::string dir, SegmentOptions opt) : dir_(std::move(dir)), opt_(opt) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) throw std::runtime_error(dir_ + ": cannot create the blob folder: " + ec.message());
    std::uint32_t last = 0;
    for (const auto& e : fs::directory_iterator(dir_)) {
      auto name = e.path().filename().string();
      if (name.size() == 12 && name.starts_with("seg-")) {
        auto n = static_cast<std::uint32_t>(std::stoul(name.substr(4)));
        files_[n] = open_file(n, O_RDONLY);
        last = std::max(last, n);
      }
    }
    if (opt_.read_only)
      current_ = last + 1;  // appends are refused; every existing segment is sealed for us
    else
      start_segment(last + 1);
  }

  ~SegmentBlobs() override {
    for (auto& [n, f] : files_) ::close(f.fd);
  }

  BlobLocation append(std::string_view sha, std::string_view data) override {
    std::string header = "CVB1";
    codec::put_be64(header, data.size());
    header.append(sha.substr(0, 32));
    header.resize(kHeader, '\0');
    if (opt_.read_only) throw std::logic_error(dir_ + ": the blob store was opened read-only");
    std::unique_lock lk(mu_);
    if (current_size_ > 0 && current_size_ + kHeader + data.size() > opt_.max_segment_bytes)
      start_segment(current_ + 1);
    std::uint64_t at = current_size_;
    current_size_ += kHeader + data.size();
    int fd = files_.at(current_).fd;
    std::uint32_t seg = current_;
    // Writes to distinct ranges of the file proceed in parallel, outside the lock.
    lk.unlock();
    write_all(fd, header, at, path(seg));
    write_all(fd, data, at + kHeader, path(seg));
    // Marked dirty only once written: a sync() that clears the mark afterwards covers these
    // bytes, and one that cleared it earlier leaves it set for the next.
    lk.lock();
    files_[seg].dirty = true;
    return BlobLocation{seg, at + kHeader, data.size()};
  }

  void sync() override {
    std::vector<std::pair<int, std::uint32_t>> dirty;
    {
      std::lock_guard lk(mu_);
      for (auto& [n, f] : files_)
        if (f.dirty) {
          f.dirty = false;
          dirty.emplace_back(f.fd, n);
        }
    }
    for (auto [fd, n] : dirty) {
      if (::fdatasync(fd) != 0) fail("cannot sync", path(n));
      ++syncs_;
    }
  }

  std::string read(const BlobLocation& at) override {
    int fd;
    {
      std::lock_guard lk(mu_);
      auto it = files_.find(at.segment);
      if (it == files_.end()) throw std::runtime_error(path(at.segment) + ": missing blob segment");
      fd = it->second.fd;
    }
    std::string out(kHeader + at.length, '\0');
    std::uint64_t off = at.offset - kHeader;
    std::size_t got = 0;
    while (got < out.size()) {
      ssize_t n = ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(off + got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("cannot read", path(at.segment));
      if (n == 0) throw std::runtime_error(path(at.segment) + ": blob at offset " + std::to_string(off) + " is truncated");
      got += static_cast<std::size_t>(n);
    }
    if (out.compare(0, 4, "CVB1") != 0 || codec::get_be64(std::string_view(out).substr(4)) != at.length)
      throw std::runtime_error(path(at.segment) + ": no blob record at offset " + std::to_string(off));
    return out.substr(kHeader);
  }

  std::uint32_t current_segment() override {
    std::lock_guard lk(mu_);
    return current_;
  }

  std::vector<std::uint32_t> segments() override {
    std::lock_guard lk(mu_);
    std::vector<std::uint32_t> v;
    for (auto& [n, f] : files_) v.push_back(n);
    return v;
  }

  std::uint64_t segment_size(std::uint32_t seg) override {
    std::lock_guard lk(mu_);
    if (seg == current_) return current_size_;
    std::error_code ec;
    auto n = fs::file_size(path(seg), ec);
    return ec ? 0 : n;
  }

  void remove_segment(std::uint32_t seg) override {
    std::lock_guard lk(mu_);
    if (seg == current_) throw std::logic_error("the current blob segment cannot be removed");
    auto it = files_.find(seg);
    if (it == files_.end()) return;
    ::close(it->second.fd);
    files_.erase(it);
    if (::unlink(path(seg).c_str()) != 0) fail("cannot remove", path(seg));
  }

  std::uint64_t syncs() const override { return syncs_; }

 private:
  struct File {
    int fd = -1;
    bool dirty = false;
  };

  std::string path(std::uint32_t seg) const { return dir_ + "/" + segment_name(seg); }

  File open_file(std::uint32_t seg, int flags) {
    int fd = ::open(path(seg).c_str(), flags | O_CLOEXEC, 0600);
    if (fd < 0) fail("cannot open", path(seg));
    return File{fd, false};
  }

  // Called with mu_ held (or from the constructor).
  void start_segment(std::uint32_t seg) {
    files_[seg] = open_file(seg, O_RDWR | O_CREAT | O_EXCL);
    // The new file's directory entry must be durable before any index entry names it.
    int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    current_ = seg;
    current_size_ = 0;
  }

  std::string dir_;
  SegmentOptions opt_;
  std::mutex mu_;
  std::map<std::uint32_t, File> files_;
  std::uint32_t current_ = 0;
  std::uint64_t current_size_ = 0;
  std::atomic<std::uint64_t> syncs_{0};
};

class MemoryBlobs final : public BlobStore {
 public:
  BlobLocation append(std::string_view, std::string_view data) override {
    std::lock_guard lk(mu_);
    BlobLocation at{1, kHeader + blobs_.size(), data.size()};
    blobs_[at.offset] = std::string(data);
    size_ += kHeader + data.size();
    return at;
  }
  void sync() override { ++syncs_; }
  std::string read(const BlobLocation& at) override {
    std::lock_guard lk(mu_);
    auto it = blobs_.find(at.offset);
    if (it == blobs_.end() || it->second.size() != at.length) throw std::runtime_error("memory blob missing");
    return it->second;
  }
  std::uint32_t current_segment() override { return 1; }
  std::vector<std::uint32_t> segments() override { return {1}; }
  std::uint64_t segment_size(std::uint32_t) override { return size_; }
  void remove_segment(std::uint32_t) override { throw std::logic_error("the memory blob store has one segment"); }
  std::uint64_t syncs() const override { return syncs_; }

 private:
  std::mutex mu_;
  std::map<std::uint64_t, std::string> blobs_;
  std::uint64_t size_ = 0;
  std::atomic<std::uint64_t> syncs_{0};
};

}  // namespace

std::unique_ptr<BlobStore> open_segment_blobs(const std::string& dir, const SegmentOptions& opt) {
  return std::make_unique<SegmentBlobs>(dir, opt);
}

std::unique_ptr<BlobStore> open_memory_blobs() { return std::make_unique<MemoryBlobs>(); }

}  // namespace congvu::mailstore
