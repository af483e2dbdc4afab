// The demo province on the in-memory stores, for session transcripts and session fuzzers: a
// directory seeded with the demo units and people (cheap Argon2id parameters) and an empty
// in-memory mail store.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "directory/demo.hpp"
#include "mailstore/mailstore.hpp"

namespace congvu::test {

struct DemoWorld {
  explicit DemoWorld(UnixMs now = 1795280400000) {
    directory::Settings s;
    s.argon2 = {1, 64, 1};
    dir = std::make_unique<directory::Directory>(*dstore, s);
    auto r = dir->write(directory::Actor{"test"}, now, [](directory::Change& c) { return directory::seed_demo(c, "2026-01-01"); });
    if (!r) throw std::runtime_error(r.error().message);
  }

  // The mail account an address of the demo province delivers to.
  std::string account_of(const std::string& address) {
    return dir->read([&](directory::Snapshot& s) {
      auto o = s.address_owner(address);
      if (!o) throw std::runtime_error("no address " + address);
      if (o->kind == directory::AddressOwner::unit) return mailstore::unit_account(o->key);
      return mailstore::person_account(*PersonId::from_bytes(o->key));
    });
  }

  std::unique_ptr<kv::Store> dstore = kv::open_memory(directory::schema::table_names());
  std::unique_ptr<directory::Directory> dir;
  mailstore::OpenedStore mail = mailstore::open_memory();
};

}  // namespace congvu::test
