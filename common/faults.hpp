// Fault injection for tests (CONGVU_TEST_FAULTS), so that failure paths are exercised through
// the real server: "NAME=N[,NAME=N...]" makes the Nth time the code reaches point NAME throw
// std::runtime_error("injected fault at NAME") (once). Points: smtp.deliver, imap.command,
// ldap.request, http.request. Unset (production): point() is one relaxed atomic load.
// Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace congvu::faults {

// Reads the spec; false (nothing armed) when it is malformed. Call once at startup.
bool arm(std::string_view spec);
// Throws when the fault at `name` is due.
void point(std::string_view name);

}  // namespace congvu::faults
