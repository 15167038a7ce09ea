#include "common/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "common/clock.h"
#include "common/json.h"

namespace braid::log {
namespace {
std::atomic<int> gLevel{static_cast<int>(Level::kInfo)};
std::mutex gMutex;

const char* levelName(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

}  // namespace

bool parseLevel(std::string_view text, Level& out) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (text == levelName(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

void setLevel(Level level) { gLevel = static_cast<int>(level); }
bool enabled(Level level) { return static_cast<int>(level) >= gLevel.load(); }

void write(Level level, std::string_view msg, const Fields& fields) {
  if (!enabled(level)) return;
  Json line;
  line["ts"] = nowRfc3339();
  line["level"] = levelName(level);
  line["msg"] = std::string(msg);
  for (const auto& [k, v] : fields) line[k] = v;
  std::string text = line.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  std::lock_guard lock(gMutex);
  std::fputs(text.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace braid::log
