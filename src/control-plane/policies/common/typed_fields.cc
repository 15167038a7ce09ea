#include "control-plane/policies/common/typed_fields.h"

#include <algorithm>
#include <chrono>

#include "common/duration.h"

namespace braid::policies {
namespace {

using schema::S;

// The walker has already reported unparsable durations; these checks judge only parsed ones.
S durationWith(std::chrono::nanoseconds floor, bool inclusive, std::string message) {
  return S::duration().check([floor, inclusive, message = std::move(message)](
                                 const Json& v, const std::string& path, FieldErrors& errors) {
    auto d = parseDuration(v.get<std::string>());
    if (!d) return;
    if (inclusive ? *d < floor : *d <= floor) errors.add(path, message);
  });
}

}  // namespace

S positiveDuration() {
  return durationWith(std::chrono::nanoseconds(0), false, "must be greater than 0");
}

S nonNegativeDuration() {
  return durationWith(std::chrono::nanoseconds(0), true, "must not be negative");
}

S durationAbove(int64_t floorMs) {
  return durationWith(std::chrono::milliseconds(floorMs), false,
                      "must be greater than " + std::to_string(floorMs) + "ms");
}

S filePath() {
  return S::string().check([](const Json& v, const std::string& path, FieldErrors& errors) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty()) {
      errors.add(path, "must not be empty");
    } else if (s.find('\0') != std::string::npos) {
      errors.add(path, "must be a valid file path (no NUL characters)");
    } else if (s.back() == '/') {
      errors.add(path, "must be a valid file path, not a directory");
    }
  });
}

schema::Check typedUnion(std::vector<Variant> variants, bool objectRequired) {
  return [variants = std::move(variants), objectRequired](const Json& v, const std::string& path,
                                                          FieldErrors& errors) {
    const std::string type = v.at("type").get<std::string>();
    const Variant* chosen = nullptr;
    for (const auto& variant : variants) {
      if (variant.type == type) chosen = &variant;
    }
    if (!chosen) return;
    auto isSet = [&v](const std::string& field) {
      auto* m = schema::member(v, field.c_str());
      return m && !m->is_null();
    };
    if (objectRequired && !isSet(chosen->field)) {
      errors.add(joinPath(path, chosen->field), "must be defined when type is " + type);
    }
    std::vector<std::string> reported;
    for (const auto& variant : variants) {
      if (variant.field == chosen->field || !isSet(variant.field)) continue;
      if (std::find(reported.begin(), reported.end(), variant.field) != reported.end()) continue;
      reported.push_back(variant.field);
      errors.add(joinPath(path, variant.field), "must not be set when type is " + type);
    }
  };
}

}  // namespace braid::policies
