#pragma once

// Value schemas that several policies share (POLICY_FIELDS.md legend): regular expressions that
// must compile, integer enums, and a reader for `pct` values. Bounded durations live in
// typed_fields.h.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control-plane/resources/common_rules.h"
#include "control-plane/resources/schema.h"

namespace braid::policies {

// A string holding a regular expression that must compile with RE2, the engine that will match it.
schema::S regexString();
using rules::isValidRegex;

// An integer from a fixed list: "must be one of 301, 302, 303, 307, 308".
schema::S intOneOf(std::vector<int64_t> values);

// The number a `pct` value holds (an integer, a decimal, or a string holding a decimal); nullopt
// for anything else (already reported by the walker).
std::optional<double> percentNumber(const Json& value);

}  // namespace braid::policies
