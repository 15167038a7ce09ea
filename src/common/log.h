#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace braid::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug" | "info" | "warn" | "error".
bool parseLevel(std::string_view text, Level& out);
void setLevel(Level level);
bool enabled(Level level);

using Fields = std::vector<std::pair<std::string, std::string>>;

// Writes one structured line to stderr: {"ts":"…","level":"info","msg":"…",key:value…}.
// Thread-safe. Never pass secrets (tokens, keys) as fields.
void write(Level level, std::string_view msg, const Fields& fields = {});

inline void debug(std::string_view m, const Fields& f = {}) { write(Level::kDebug, m, f); }
inline void info(std::string_view m, const Fields& f = {}) { write(Level::kInfo, m, f); }
inline void warn(std::string_view m, const Fields& f = {}) { write(Level::kWarn, m, f); }
inline void error(std::string_view m, const Fields& f = {}) { write(Level::kError, m, f); }

}  // namespace braid::log
