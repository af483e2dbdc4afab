// congvu: one binary for the server and its administration.
//
// SECURITY: admin subcommands act on the data folder directly, with the rights of the Unix
// user running them; they are for the province's IT staff on the server itself. Every change
// they make is audited as "cli:<user>".
// DIAGNOSTICS: errors go to stderr as "congvu: <message>"; exit 1 for a failed operation,
// 2 for a usage error.
#include <cstdio>
#include <cstring>
#include <malloc.h>
#include <iostream>

#include "app/commands.hpp"
#include "common/faults.hpp"
#include "common/kv/kv.hpp"

namespace {

constexpr const char* kUsage = R"(usage: congvu COMMAND [ARGS]

Server
  serve [--config FILE] [--data DIR] [--ready-file PATH] [--no-demo]
  tls export-ca [--config FILE] [--data DIR]
  config example | config check FILE

Directory (all take --data DIR or --config FILE, and --json)
  import --units units.csv --staff staff.csv [--credentials FILE] [--since DATE]
  import --units U --staff S [--credentials C] --domain OTHER [--under CODE] [--recode H99=H30] [--staff-prefix P]
      (another province merged into this one: old addresses kept as aliases; OTHER in [directory] merged_domains)
  events apply events.csv [--as-of YYYY-MM-DD] [--stop-on-error]
  events pending | events cancel NUMBER | events run-due | events proposals | events accept NUMBER | events refuse NUMBER --reason R
  person show WHO | person find QUERY [--unit CODE] [--no-subtree] [--status S|any] [--limit N]
  person hire --name "Full Name" --staff-no N --unit CODE --position P [--decision D] [--date D]
  person transfer WHO --to CODE [--position P] --decision D [--date D] [--rotation]
  person appoint WHO --position P [--unit CODE] --decision D [--date D]
  person suspend WHO [--reason R] [--date D] | person resume WHO [--reason R] [--date D]
  person retire WHO --decision D [--date D] [--successor WHO]
    (a --date after today schedules the change; the server applies it on that date)
  person passwd WHO --password-stdin | person reset-code WHO [--hours 24]
  unit show CODE | unit tree [CODE] [--depth N]
  unit add --code C --parent P --kind K --name N --slug S
  unit merge CODE... --into CODE [--parent P --kind K --name N --slug S] --decision D [--date D] [--dry-run]
  unit rename CODE --name N | unit recode CODE --code NEW | unit reparent CODE --parent P   (--decision D, --dry-run)
  unit reorganise PLAN.csv --decision D [--date D] [--reason R] [--dry-run]
      PLAN columns op,unit,target,name,slug,kind,people,position; op: add rename reparent move merge recode
  group add NAME [--title T] (--static | [--unit CODE] [--no-subtree] [--position P]...)
  group show NAME | group list | group add-member NAME WHO
  audit verify | audit log [--target ID] [--limit N]
  check

Mail (WHO: a login or address, or a unit's official address)
  mail boxes WHO | mail list WHO [--mailbox NAME] | mail cat WHO UID [--mailbox NAME]
  mail check | mail gc [--min-live 0.5] | mail purge-retired [--dry-run]   (mailboxes past their retention)
  dkim list | dkim keygen --selector S [--algorithm rsa|ed25519] [--bits 2048] [--domain D]
  queue list | queue flush | queue delete ID

Single sign-on
  client add ID [--type confidential|public] [--auth client_secret_basic|client_secret_post|private_key_jwt]
             [--jwk FILE] --redirect-uri URI... [--post-logout-uri URI] [--backchannel-logout-uri URI]
             [--logout-events logout,suspend,retire,transfer]
             [--grant G,...] [--scope S,...] [--claim C,...] [--first-party] [--require-mfa]
             [--id-token-alg RS256|ES256|EdDSA] [--name NAME] [--role ROLE --unit CODE]
  client list | client show ID | client remove ID
  keys list | keys rotate
  sp add --metadata FILE|URL [--name NAME] [--name-id-format persistent|email|unspecified|transient]
         [--attributes uid,mail,...] [--encrypt] [--idp-initiated [--relay-state URL]]
         [--logout-events suspend,retire,transfer] [--require-signed] [--replace] [--ca FILE]
  sp list | sp show ENTITY_ID | sp remove ENTITY_ID
  app-password add WHO --name NAME | app-password list WHO | app-password remove WHO ID

ADMINISTRATION
  admin init WHO                    the first province administrator (needs a second factor)
  admin grant WHO ROLE [--unit CODE] [--decision D]   ROLE: province-admin, hr-admin, auditor
  admin revoke WHO ROLE [--unit CODE] | admin list

LDAP
  ldap service add NAME [--description D] [--attributes employeeNumber,congvuBirthDate,congvuGender]
                   [--retired] [--replace]
  ldap service list | ldap service remove NAME

WHO is an id, a staff number, a login or an address. Dates are YYYY-MM-DD (Asia/Ho_Chi_Minh).
See README.md for details.
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace congvu::app;
  // Memory: Argon2id's 19 MiB blocks must go back to the system when freed, so the mmap
  // threshold stays fixed (glibc would otherwise raise it after the first free and keep such
  // blocks in the heap); and a few malloc arenas serve the many worker threads (one arena per
  // thread costs megabytes each for little speed here).
  // Until cmd_* starts threads, nothing else runs: mallopt and getenv are safe below.
  // NOLINTBEGIN(concurrency-mt-unsafe)
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  mallopt(M_ARENA_MAX, 4);
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string cmd = argv[1];
  Argv rest(argv + 2, argv + argc);
  // Drills and tests of scheduled changes: the clock starts at CONGVU_CLOCK.
  if (const char* clock = std::getenv("CONGVU_CLOCK"); clock && *clock) {
    auto start = congvu::parse_clock(clock);
    if (!start) {
      std::cerr << "congvu: CONGVU_CLOCK='" << clock << "' must be a date YYYY-MM-DD or milliseconds since 1970\n";
      return 2;
    }
    congvu::set_clock_start(*start);
  }
  // Tests: a clock that stands still at the instant in a file and moves when the test rewrites it.
  if (const char* file = std::getenv("CONGVU_TEST_CLOCK"); file && *file) {
    if (!congvu::set_clock_file(file)) {
      std::cerr << "congvu: CONGVU_TEST_CLOCK='" << file
                << "' must name a readable file holding a date YYYY-MM-DD or milliseconds since 1970\n";
      return 2;
    }
    std::cerr << "congvu: test clock from " << file << " (the clock moves only when that file changes)\n";
  }
  // Tests: failures injected at named points of the server (common/faults.hpp).
  if (const char* spec = std::getenv("CONGVU_TEST_FAULTS"); spec && *spec) {
    if (!congvu::faults::arm(spec)) {
      std::cerr << "congvu: CONGVU_TEST_FAULTS='" << spec << "' must be NAME=N[,NAME=N...]\n";
      return 2;
    }
    std::cerr << "congvu: test faults armed: " << spec << "\n";
  }
  // NOLINTEND(concurrency-mt-unsafe)
  try {
    if (cmd == "serve") return cmd_serve(rest);
    if (cmd == "import") return cmd_import(rest);
    if (cmd == "events") return cmd_events(rest);
    if (cmd == "person" && !rest.empty() && rest[0] == "reset-code") return cmd_reset_code(Argv(rest.begin() + 1, rest.end()));
    if (cmd == "person") return cmd_person(rest);
    if (cmd == "unit") return cmd_unit(rest);
    if (cmd == "group") return cmd_group(rest);
    if (cmd == "audit") return cmd_audit(rest);
    if (cmd == "check") return cmd_check(rest);
    if (cmd == "config") return cmd_config(rest);
    if (cmd == "tls") return cmd_tls(rest);
    if (cmd == "mail") return cmd_mail(rest);
    if (cmd == "dkim") return cmd_dkim(rest);
    if (cmd == "queue") return cmd_queue(rest);
    if (cmd == "client") return cmd_client(rest);
    if (cmd == "sp") return cmd_sp(rest);
    if (cmd == "ldap") return cmd_ldap(rest);
    if (cmd == "keys") return cmd_keys(rest);
    if (cmd == "app-password") return cmd_app_password(rest);
    if (cmd == "admin") return cmd_admin(rest);
    throw UsageError("unknown command '" + cmd + "'");
  } catch (const UsageError& e) {
    std::cerr << "congvu: " << e.what() << "\n(run `congvu --help` for usage)\n";
    return 2;
  } catch (const congvu::kv::Error& e) {
    std::cerr << "congvu: storage error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "congvu: " << e.what() << "\n";
    return 1;
  }
}
