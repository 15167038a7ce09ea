#pragma once

// Value schemas that several policies share (POLICY_FIELDS.md legend): durations that must be
// positive or non-negative, regular expressions that must compile, integer enums, and a reader for
// `pct` values.

#include <cstdint>
#include <optional>
#include <vector>

#include "control-plane/resources/schema.h"

namespace braid::policies {

// `dur>0`: a Go-style duration that is greater than zero ("must be greater than 0").
schema::S positiveDuration();
// `dur≥0`: a Go-style duration that is not negative ("must not be negative"); 0 usually disables.
schema::S nonNegativeDuration();

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
