#pragma once

// Reading and atomically replacing the small PEM files of the CP's data dir.

#include <sys/types.h>

#include <string>

namespace braid::ca {

// Reads the whole file into `content`. Returns 0, or the errno of the failure (ENOENT when the file
// is missing, EFBIG when it is larger than any PEM file we write could be).
int readSmallFile(const std::string& path, std::string& content);

// Replaces `path` with `content`: a temp file in the same directory is created with O_EXCL and
// `mode` (so a key is never readable by others, even briefly, whatever the umask), written,
// fsynced and renamed over `path`. Returns "" or an error naming the file.
std::string writeFileAtomically(const std::string& path, const std::string& content, mode_t mode);

}  // namespace braid::ca
