#include "control-plane/policies/common/policy_values.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>

namespace braid::policies {

using schema::S;

S regexString() {
  return S::string().check([](const Json& v, const std::string& path, FieldErrors& errors) {
    if (!isValidRegex(v.get_ref<const std::string&>())) {
      errors.add(path, "must be a valid regular expression");
    }
  });
}

S intOneOf(std::vector<int64_t> values) {
  return S::integer().check([values = std::move(values)](const Json& v, const std::string& path,
                                                         FieldErrors& errors) {
    // JSON bodies hold positive numbers as unsigned; compare them in their own range.
    bool known = v.is_number_unsigned()
                     ? v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX) &&
                           std::find(values.begin(), values.end(), v.get<int64_t>()) != values.end()
                     : std::find(values.begin(), values.end(), v.get<int64_t>()) != values.end();
    if (known) return;
    std::vector<std::string> names;
    for (auto value : values) names.push_back(std::to_string(value));
    errors.add(path, schema::msg::oneOf(names));
  });
}

std::optional<double> percentNumber(const Json& value) {
  if (value.is_number()) return value.get<double>();
  if (!value.is_string()) return std::nullopt;
  const auto& s = value.get_ref<const std::string&>();
  double d = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return d;
}

}  // namespace braid::policies
