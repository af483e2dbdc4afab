// LMDB implementation of kv::Store. One environment in one file (MDB_NOSUBDIR), one named
// database per table. MDB_NOTLS lets read transactions move between threads of a pool; the
// environment is opened without MDB_NOSYNC, so mdb_txn_commit() returns after fsync.
#include <lmdb.h>
#include <sys/stat.h>

#include <map>

#include "common/kv/kv.hpp"

namespace congvu::kv {
namespace {

[[noreturn]] void fail(const std::string& what, int rc) {
  std::string msg = what + ": " + mdb_strerror(rc);
  if (rc == MDB_MAP_FULL) msg += " (raise map_size_mb in the config)";
  throw Error(msg);
}

MDB_val as_val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
std::string_view as_view(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

class LmdbCursor final : public Cursor {
 public:
  LmdbCursor(MDB_txn* txn, MDB_dbi dbi) {
    if (int rc = mdb_cursor_open(txn, dbi, &c_)) fail("mdb_cursor_open", rc);
  }
  ~LmdbCursor() override { mdb_cursor_close(c_); }
  bool seek(std::string_view key) override {
    if (key.empty()) return position(mdb_cursor_get(c_, &k_, &v_, MDB_FIRST));
    k_ = as_val(key);
    return position(mdb_cursor_get(c_, &k_, &v_, MDB_SET_RANGE));
  }
  bool next() override { return position(mdb_cursor_get(c_, &k_, &v_, MDB_NEXT)); }
  bool valid() const override { return valid_; }
  std::string_view key() const override { return as_view(k_); }
  std::string_view value() const override { return as_view(v_); }

 private:
  bool position(int rc) {
    if (rc == MDB_NOTFOUND) return valid_ = false;
    if (rc) fail("mdb_cursor_get", rc);
    return valid_ = true;
  }
  MDB_cursor* c_ = nullptr;
  MDB_val k_{}, v_{};
  bool valid_ = false;
};

class LmdbTxn final : public WriteTxn {
 public:
  LmdbTxn(MDB_env* env, const std::vector<MDB_dbi>& dbis, bool rdonly) : dbis_(dbis) {
    if (int rc = mdb_txn_begin(env, nullptr, rdonly ? MDB_RDONLY : 0, &txn_))
      fail("mdb_txn_begin", rc);
  }
  ~LmdbTxn() override {
    if (txn_) mdb_txn_abort(txn_);
  }
  std::optional<std::string_view> get(TableId t, std::string_view key) override {
    MDB_val k = as_val(key), v{};
    int rc = mdb_get(txn_, dbis_.at(t), &k, &v);
    if (rc == MDB_NOTFOUND) return std::nullopt;
    if (rc) fail("mdb_get", rc);
    return as_view(v);
  }
  std::unique_ptr<Cursor> cursor(TableId t) override {
    return std::make_unique<LmdbCursor>(txn_, dbis_.at(t));
  }
  std::uint64_t count(TableId t) override {
    MDB_stat st;
    if (int rc = mdb_stat(txn_, dbis_.at(t), &st)) fail("mdb_stat", rc);
    return st.ms_entries;
  }
  void put(TableId t, std::string_view key, std::string_view value) override {
    MDB_val k = as_val(key), v = as_val(value);
    if (int rc = mdb_put(txn_, dbis_.at(t), &k, &v, 0)) fail("mdb_put", rc);
  }
  bool del(TableId t, std::string_view key) override {
    MDB_val k = as_val(key);
    int rc = mdb_del(txn_, dbis_.at(t), &k, nullptr);
    if (rc == MDB_NOTFOUND) return false;
    if (rc) fail("mdb_del", rc);
    return true;
  }
  void commit() override {
    MDB_txn* t = txn_;
    txn_ = nullptr;
    if (int rc = mdb_txn_commit(t)) fail("mdb_txn_commit", rc);
  }

 private:
  MDB_txn* txn_ = nullptr;
  const std::vector<MDB_dbi>& dbis_;
};

class LmdbStore final : public Store {
 public:
  LmdbStore(const std::string& path, const std::vector<std::string>& tables, const LmdbOptions& o)
      : path_(path) {
    if (int rc = mdb_env_create(&env_)) fail("mdb_env_create", rc);
    mdb_env_set_maxdbs(env_, static_cast<MDB_dbi>(tables.size() + 1));
    mdb_env_set_mapsize(env_, o.map_size);
    mdb_env_set_maxreaders(env_, 1024);
    if (int rc = mdb_env_open(env_, path.c_str(), MDB_NOSUBDIR | MDB_NOTLS | MDB_NORDAHEAD, 0600)) {
      mdb_env_close(env_);
      env_ = nullptr;
      fail("cannot open " + path, rc);
    }
    // Files made by earlier versions (0640) become the service's own too.
    ::chmod(path.c_str(), 0600);
    ::chmod((path + "-lock").c_str(), 0600);
    MDB_txn* txn = nullptr;
    if (int rc = mdb_txn_begin(env_, nullptr, 0, &txn)) fail("mdb_txn_begin", rc);
    for (const auto& name : tables) {
      MDB_dbi dbi;
      if (int rc = mdb_dbi_open(txn, name.c_str(), MDB_CREATE, &dbi)) {
        mdb_txn_abort(txn);
        fail("cannot open table " + name + " in " + path, rc);
      }
      dbis_.push_back(dbi);
    }
    if (int rc = mdb_txn_commit(txn)) fail("mdb_txn_commit", rc);
  }
  ~LmdbStore() override {
    if (env_) mdb_env_close(env_);
  }
  std::unique_ptr<ReadTxn> read() override { return std::make_unique<LmdbTxn>(env_, dbis_, true); }
  std::unique_ptr<WriteTxn> write() override {
    return std::make_unique<LmdbTxn>(env_, dbis_, false);
  }
  Stats stats() override {
    MDB_envinfo info;
    MDB_stat st;
    mdb_env_info(env_, &info);
    mdb_env_stat(env_, &st);
    Stats s;
    s.file_bytes = static_cast<std::uint64_t>(info.me_last_pgno + 1) * st.ms_psize;
    return s;
  }

 private:
  std::string path_;
  MDB_env* env_ = nullptr;
  std::vector<MDB_dbi> dbis_;
};

}  // namespace

std::unique_ptr<Store> open_lmdb(const std::string& path, const std::vector<std::string>& tables,
                                 const LmdbOptions& options) {
  return std::make_unique<LmdbStore>(path, tables, options);
}

void scan_prefix(ReadTxn& txn, TableId table, std::string_view prefix,
                 const std::function<bool(std::string_view, std::string_view)>& fn) {
  auto c = txn.cursor(table);
  for (bool ok = c->seek(prefix); ok; ok = c->next()) {
    if (c->key().substr(0, prefix.size()) != prefix) break;
    if (!fn(c->key(), c->value())) break;
  }
}

}  // namespace congvu::kv
