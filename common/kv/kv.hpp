// The ordered key-value store under directory/ and mailstore/: named tables of byte keys and
// byte values, read transactions that see a consistent snapshot, and one write transaction at a
// time whose commit() returns only once the data is durable. Two implementations pass the same
// contract tests (tests/common/kv_contract_test.cpp): LMDB (the reference, multi-process) and
// an in-memory map (for protocol transcript tests).
//
// Thread-safety: a Store may be shared by threads; a transaction and its cursors belong to the
// thread that opened them and must not outlive the Store. Keep read transactions short and
// never hold one across a co_await. Values returned as string_view stay valid until the
// transaction ends or the same key is written in it.
// Failure: storage errors (disk full, map full, corrupt file) throw kv::Error.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace congvu::kv {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Index of a table in the list given when the store was opened.
using TableId = unsigned;

class Cursor {
 public:
  virtual ~Cursor() = default;
  // Positions on the first entry whose key is >= `key`; returns valid().
  virtual bool seek(std::string_view key) = 0;
  // Moves to the next entry in key order; returns valid().
  virtual bool next() = 0;
  virtual bool valid() const = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
};

class ReadTxn {
 public:
  virtual ~ReadTxn() = default;
  virtual std::optional<std::string_view> get(TableId table, std::string_view key) = 0;
  virtual std::unique_ptr<Cursor> cursor(TableId table) = 0;
  // Number of entries in the table, without scanning it.
  virtual std::uint64_t count(TableId table) = 0;
};

class WriteTxn : public ReadTxn {
 public:
  virtual void put(TableId table, std::string_view key, std::string_view value) = 0;
  // Returns false if the key was absent.
  virtual bool del(TableId table, std::string_view key) = 0;
  // Makes every change durable, then ends the transaction. A transaction destroyed without
  // commit() is rolled back.
  virtual void commit() = 0;
};

struct Stats {
  std::uint64_t file_bytes = 0;  // pages in use on disk (0 for memory)
};

class Store {
 public:
  virtual ~Store() = default;
  virtual std::unique_ptr<ReadTxn> read() = 0;
  // Blocks while another write transaction (in this or, for LMDB, another process) is open.
  virtual std::unique_ptr<WriteTxn> write() = 0;
  virtual Stats stats() = 0;
};

struct LmdbOptions {
  std::uint64_t map_size = 64ULL << 30;  // address space reserved; the file grows as needed
};

// Opens (creating if needed) the LMDB environment in the single file `path` (plus
// `path`-lock), with the named tables. Throws kv::Error naming the path on failure.
std::unique_ptr<Store> open_lmdb(const std::string& path, const std::vector<std::string>& tables,
                                 const LmdbOptions& options = {});
std::unique_ptr<Store> open_memory(const std::vector<std::string>& tables);

// Calls fn(key, value) for each entry whose key starts with `prefix`, in key order, until fn
// returns false.
void scan_prefix(ReadTxn& txn, TableId table, std::string_view prefix,
                 const std::function<bool(std::string_view, std::string_view)>& fn);

}  // namespace congvu::kv
