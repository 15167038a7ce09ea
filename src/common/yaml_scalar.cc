#include "common/yaml_scalar.h"

#include <charconv>
#include <regex>

namespace braid {

// YAML 1.2 core schema resolution for a plain (unquoted) scalar.
Json resolvePlainScalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(s, kInt)) {
    const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
    int64_t i = 0;
    auto [ptr, ec] = std::from_chars(begin, s.data() + s.size(), i);
    if (ec == std::errc() && ptr == s.data() + s.size()) return i;
    uint64_t u = 0;
    auto [uptr, uec] = std::from_chars(begin, s.data() + s.size(), u);
    if (uec == std::errc() && uptr == s.data() + s.size()) return u;
    return std::stod(s);
  }
  if (std::regex_match(s, kFloat)) return std::stod(s);
  return s;
}
}  // namespace braid
