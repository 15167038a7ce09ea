#pragma once

#include <chrono>
#include <string>

namespace braid {

// RFC 3339 UTC with milliseconds, as Kuma prints creationTime: "2026-11-21T21:38:41.123Z".
std::string formatRfc3339(std::chrono::system_clock::time_point t);
inline std::string nowRfc3339() { return formatRfc3339(std::chrono::system_clock::now()); }

}  // namespace braid
