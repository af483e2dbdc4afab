// Writing a small file so that readers see the old content or the new, never a part: write to
// PATH.tmp with the given mode, fsync, rename over PATH. Throws std::runtime_error naming the
// file. Used for TLS keys and certificates and for the --ready-file.
#pragma once

#include <string>
#include <sys/types.h>

namespace congvu {

void write_file_atomic(const std::string& path, const std::string& data, mode_t mode = 0644);

}  // namespace congvu
