// The subcommands of `congvu`. Each takes its arguments (after the subcommand words) and
// returns the exit status: 0 done, 1 the operation failed (message on stderr), 2 usage error.
// Every command that touches data opens the data folder itself, which is safe while the
// server runs: LMDB serialises writers across processes and readers never block.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "app/args.hpp"
#include "common/kv/kv.hpp"
#include "config/config.hpp"
#include "directory/directory.hpp"

namespace congvu::app {

using Argv = std::vector<std::string>;

// What every data command needs: the config (--config), the data folder (--data overrides
// the config's), the directory on it, and who is acting.
struct Env {
  config::Config cfg;
  std::unique_ptr<kv::Store> store;
  std::unique_ptr<directory::Directory> dir;
  directory::Actor actor;
  UnixMs now = 0;
  bool json = false;
};

// Loads --config (or the defaults) and applies --data. Throws UsageError on a bad config.
config::Config load_env_config(const Args& a);
Env open_env(const Args& a);

int fail(const Env& env, const Error& e);

int cmd_serve(const Argv& argv);
int cmd_import(const Argv& argv);
int cmd_events(const Argv& argv);
int cmd_person(const Argv& argv);
int cmd_unit(const Argv& argv);
// unit reorganise PLAN | merge UNIT... --into | rename | recode | reparent (app/cmd_reorg.cpp).
int cmd_unit_reorganise(Env& env, Args& a, const std::string& sub);
int cmd_group(const Argv& argv);
int cmd_audit(const Argv& argv);
int cmd_check(const Argv& argv);
int cmd_config(const Argv& argv);
int cmd_tls(const Argv& argv);
int cmd_mail(const Argv& argv);
int cmd_dkim(const Argv& argv);
int cmd_queue(const Argv& argv);
int cmd_client(const Argv& argv);
int cmd_sp(const Argv& argv);
int cmd_ldap(const Argv& argv);
int cmd_keys(const Argv& argv);
int cmd_app_password(const Argv& argv);
int cmd_reset_code(const Argv& argv);
int cmd_admin(const Argv& argv);

}  // namespace congvu::app
