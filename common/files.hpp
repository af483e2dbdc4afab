// Writing a small file so that readers see the old content or the new, never a part: write to
// PATH.tmp with the given mode, fsync, rename over PATH. Throws std::runtime_error naming the
// file. Used for TLS keys and certificates and for the --ready-file.
#pragma once

#include <string>
#include <sys/types.h>

namespace congvu {

void write_file_atomic(const std::string& path, const std::string& data, mode_t mode = 0644);

// Creates `dir` (and its parents) if needed and makes it 0700: the data folder and its stores
// hold every mailbox and credential, for the service's own user only. Throws
// std::runtime_error naming the folder when it cannot be created or its mode set.
void make_private_dir(const std::string& dir);

}  // namespace congvu
