#pragma once

// Value schemas that several policies share (POLICY_FIELDS.md legend): regular expressions that
// must compile, integer enums, and a reader for `pct` values. Bounded durations live in
// typed_fields.h.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control-plane/resources/schema.h"

namespace braid::policies {

// A string holding a regular expression that must compile. Kuma uses RE2; std::regex's ECMAScript
// grammar accepts the RE2 syntax users write in routes (classes, groups, alternation, repeats).
schema::S regexString();
// True when `pattern` compiles (the rule behind regexString()).
bool isValidRegex(const std::string& pattern);

// An integer from a fixed list: "must be one of 301, 302, 303, 307, 308".
schema::S intOneOf(std::vector<int64_t> values);

// The number a `pct` value holds (an integer, a decimal, or a string holding a decimal); nullopt
// for anything else (already reported by the walker).
std::optional<double> percentNumber(const Json& value);

}  // namespace braid::policies
