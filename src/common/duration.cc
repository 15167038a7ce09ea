#include "common/duration.h"

#include <cstdint>
#include <limits>

namespace braid {
namespace {

struct Unit {
  std::string_view name;
  int64_t nanos;
};

// Longest names first so that "ms" is not read as "m".
constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xC2\xB5s", 1000},  // µs (U+00B5)
    {"\xCE\xBCs", 1000},  // μs (U+03BC)
    {"ms", 1000000},
    {"s", 1000000000LL},
    {"m", 60LL * 1000000000LL},
    {"h", 3600LL * 1000000000LL},
    {"d", 86400LL * 1000000000LL},
};

std::optional<int64_t> unitNanos(std::string_view text, size_t& pos) {
  for (const auto& u : kUnits) {
    if (text.substr(pos, u.name.size()) == u.name) {
      // "m" must not swallow the "m" of "ms": kUnits lists "ms" first, so this is safe.
      pos += u.name.size();
      return u.nanos;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::chrono::nanoseconds> parseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  size_t pos = 0;
  bool negative = false;
  if (text[0] == '-' || text[0] == '+') {
    negative = text[0] == '-';
    pos = 1;
  }
  if (text.substr(pos) == "0") return std::chrono::nanoseconds(0);
  if (pos == text.size()) return std::nullopt;

  // Accumulate in long double to detect overflow, as Go does.
  long double total = 0;
  while (pos < text.size()) {
    long double value = 0;
    bool digits = false;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      value = value * 10 + (text[pos] - '0');
      digits = true;
      ++pos;
    }
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      long double scale = 0.1L;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        value += (text[pos] - '0') * scale;
        scale /= 10;
        digits = true;
        ++pos;
      }
    }
    if (!digits) return std::nullopt;
    auto unit = unitNanos(text, pos);
    if (!unit) return std::nullopt;
    total += value * static_cast<long double>(*unit);
    if (total > static_cast<long double>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  }
  auto nanos = static_cast<int64_t>(total);
  return std::chrono::nanoseconds(negative ? -nanos : nanos);
}

std::string formatDuration(std::chrono::nanoseconds d) {
  int64_t n = d.count();
  if (n == 0) return "0s";
  std::string sign = n < 0 ? "-" : "";
  uint64_t u = n < 0 ? static_cast<uint64_t>(-(n + 1)) + 1 : static_cast<uint64_t>(n);

  auto fraction = [](uint64_t value, uint64_t unit) {
    std::string s = std::to_string(value / unit);
    uint64_t rest = value % unit;
    if (rest == 0) return s;
    std::string frac;
    for (uint64_t div = unit / 10; div > 0; div /= 10) {
      frac += static_cast<char>('0' + (rest / div) % 10);
    }
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    return s + "." + frac;
  };

  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + fraction(u, 1000) + "\xC2\xB5s";
  if (u < 1000000000ULL) return sign + fraction(u, 1000000) + "ms";

  const uint64_t second = 1000000000ULL;
  uint64_t hours = u / (3600 * second);
  uint64_t minutes = (u / (60 * second)) % 60;
  uint64_t rest = u % (60 * second);
  std::string out = sign;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  out += fraction(rest, second) + "s";
  return out;
}

}  // namespace braid
