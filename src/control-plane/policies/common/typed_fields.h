#pragma once

// Small value rules that several policies need beside the walker's own: signed durations with a
// lower bound, file paths, and "type + one object per type" unions (backends, hash policies, load
// balancers).

#include <string>
#include <utility>
#include <vector>

#include "control-plane/resources/schema.h"

namespace braid::policies {

// A Go duration that must be > 0 ("must be greater than 0").
schema::S positiveDuration();
// A Go duration that must be >= 0 ("must not be negative"); 0 usually disables the feature.
schema::S nonNegativeDuration();
// A Go duration that must be strictly greater than `floorMs` milliseconds.
schema::S durationAbove(int64_t floorMs);

// A path of a file the proxy writes (access logs, health-check event logs): not empty, no NUL
// characters, and not ending in '/' (a directory).
schema::S filePath();

// One variant of a typed union: the value of `type` and the object field that configures it.
struct Variant {
  std::string type;
  std::string field;
};

// For objects shaped `{type: X, x: {...}, y: {...}}`: the field of the chosen type must be set
// when `objectRequired` ("must be defined when type is X"), and the fields of the other types
// must not be ("must not be set when type is X"). An unknown type is left to the enum check.
schema::Check typedUnion(std::vector<Variant> variants, bool objectRequired);

}  // namespace braid::policies
