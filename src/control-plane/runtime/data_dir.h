#pragma once

// The CP's data directory (CONTRACT §2): admin-token, ports.json, and later its certificates.

#include <map>
#include <string>

namespace braid::runtime {

// Creates the directory (mode 0700) if missing; an existing one keeps its mode. Returns "" or an
// error.
std::string ensureDataDir(const std::string& dir);

// Reads DATA_DIR/admin-token, creating it (32 random bytes, hex, mode 0600) on first start.
// Returns false with `error` set on failure.
bool loadOrCreateAdminToken(const std::string& dir, std::string& token, std::string& error);

// Writes {"api":N,…} to DATA_DIR/ports.json atomically (temp file + rename), so readers never
// see a partial file.
// Removes a ports.json left by an earlier run, so that readers waiting for the file never read
// the previous run's ports.
void removePortsFile(const std::string& dir);

std::string writePortsFile(const std::string& dir, const std::map<std::string, int>& ports);

}  // namespace braid::runtime
