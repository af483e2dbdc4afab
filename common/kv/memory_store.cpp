// In-memory implementation of kv::Store for transcript tests: one std::map per table under a
// shared_mutex. A write transaction holds the lock exclusively and keeps an undo log, so that
// a transaction destroyed without commit() leaves the maps as they were. Readers wait while a
// writer is open (LMDB lets them proceed on a snapshot); the contract tests do not depend on it.
#include <atomic>
#include <map>
#include <thread>
#include <mutex>
#include <shared_mutex>

#include "common/kv/kv.hpp"

namespace congvu::kv {
namespace {

using Map = std::map<std::string, std::string, std::less<>>;

class MemCursor final : public Cursor {
 public:
  explicit MemCursor(const Map& m) : m_(m) {}
  bool seek(std::string_view key) override { return land(m_.lower_bound(key)); }
  // Re-finds its place by key, so that writes in the same transaction never invalidate it.
  bool next() override { return valid_ && land(m_.upper_bound(key_)); }
  bool valid() const override { return valid_; }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return it_->second; }

 private:
  bool land(Map::const_iterator it) {
    it_ = it;
    valid_ = it != m_.end();
    if (valid_) key_ = it->first;
    return valid_;
  }
  const Map& m_;
  Map::const_iterator it_;
  std::string key_;
  bool valid_ = false;
};

struct Tables {
  std::vector<Map> maps;
  std::shared_mutex mu;
  // The thread holding the write lock; its own reads take no lock (LMDB lets a thread read
  // while it writes, and code may rely on it). Such a read sees the uncommitted writes.
  std::atomic<std::thread::id> writer{};
};

class MemRead final : public ReadTxn {
 public:
  explicit MemRead(Tables& t) : t_(t), lock_(t.mu, std::defer_lock) {
    if (t.writer.load() != std::this_thread::get_id()) lock_.lock();
  }
  std::optional<std::string_view> get(TableId table, std::string_view key) override {
    const auto& m = t_.maps.at(table);
    auto it = m.find(key);
    if (it == m.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  std::unique_ptr<Cursor> cursor(TableId table) override {
    return std::make_unique<MemCursor>(t_.maps.at(table));
  }
  std::uint64_t count(TableId table) override { return t_.maps.at(table).size(); }

 private:
  Tables& t_;
  std::shared_lock<std::shared_mutex> lock_;
};

class MemWrite final : public WriteTxn {
 public:
  explicit MemWrite(Tables& t) : t_(t), lock_(t.mu) { t.writer = std::this_thread::get_id(); }
  ~MemWrite() override {
    if (done_) return;
    t_.writer = std::thread::id{};
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
      auto& m = t_.maps[it->table];
      if (const auto& old = it->old) m.insert_or_assign(it->key, *old);
      else m.erase(it->key);
    }
  }
  std::optional<std::string_view> get(TableId table, std::string_view key) override {
    const auto& m = t_.maps.at(table);
    auto it = m.find(key);
    if (it == m.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  std::unique_ptr<Cursor> cursor(TableId table) override {
    return std::make_unique<MemCursor>(t_.maps.at(table));
  }
  std::uint64_t count(TableId table) override { return t_.maps.at(table).size(); }
  void put(TableId table, std::string_view key, std::string_view value) override {
    auto& m = t_.maps.at(table);
    remember(table, m, key);
    m.insert_or_assign(std::string(key), std::string(value));
  }
  bool del(TableId table, std::string_view key) override {
    auto& m = t_.maps.at(table);
    auto it = m.find(key);
    if (it == m.end()) return false;
    remember(table, m, key);
    m.erase(it);
    return true;
  }
  void commit() override {
    done_ = true;
    undo_.clear();
    t_.writer = std::thread::id{};
    lock_.unlock();
  }

 private:
  struct Undo {
    TableId table;
    std::string key;
    std::optional<std::string> old;
  };
  void remember(TableId table, const Map& m, std::string_view key) {
    auto it = m.find(key);
    undo_.push_back({table, std::string(key),
                     it == m.end() ? std::nullopt : std::optional<std::string>(it->second)});
  }
  Tables& t_;
  std::unique_lock<std::shared_mutex> lock_;
  std::vector<Undo> undo_;
  bool done_ = false;
};

class MemStore final : public Store {
 public:
  explicit MemStore(std::size_t n) { t_.maps.resize(n); }
  std::unique_ptr<ReadTxn> read() override { return std::make_unique<MemRead>(t_); }
  std::unique_ptr<WriteTxn> write() override { return std::make_unique<MemWrite>(t_); }
  Stats stats() override { return {}; }

 private:
  Tables t_;
};

}  // namespace

std::unique_ptr<Store> open_memory(const std::vector<std::string>& tables) {
  return std::make_unique<MemStore>(tables.size());
}

}  // namespace congvu::kv
