#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace braid {

// Parses a Go-style duration ("500ms", "1m30s", "24h", "1.5h", "-2s", "0"), plus the `d` unit
// (24h) that Kuma's certificate settings accept. Returns nullopt for anything else, including a
// number without a unit, an empty string, or an overflow.
std::optional<std::chrono::nanoseconds> parseDuration(std::string_view text);

// Formats like Go's time.Duration.String(): "1h0m0s", "1m30s", "500ms", "0s".
std::string formatDuration(std::chrono::nanoseconds d);

}  // namespace braid
