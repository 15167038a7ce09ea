#pragma once

#include <string>

#include "common/json.h"

namespace braid {

// YAML 1.2 core-schema resolution of a plain (unquoted) scalar: null, bool, int, float, or the
// string itself. Shared by the reader (to type values) and the writer (to know when a string
// must be quoted to read back as a string).
Json resolvePlainScalar(const std::string& s);

}  // namespace braid
