#pragma once

// Bounds on documents parsed from untrusted text (REST bodies, YAML files). Insertion-ordered
// JSON objects look keys up linearly, so one object with 100,000 keys costs billions of steps,
// and YAML aliases can expand a small file into a huge tree; these limits refuse such input with
// a clear error long before either matters. Real resources are far below them.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/json.h"

namespace braid {

struct DocumentLimits {
  size_t maxDepth = 64;              // nesting of objects and arrays
  size_t maxKeysPerObject = 10000;   // members of one object
  size_t maxNodes = 1000000;         // values in the whole document
  size_t maxScalarBytes = 64 << 20;  // bytes of all scalars, aliases counted at every use
};

// Parses JSON text within the limits; on failure returns nullopt with `error` set to a message
// that names the problem (syntax with its position, or the limit exceeded).
std::optional<Json> parseJsonBounded(std::string_view text, std::string& error,
                                     const DocumentLimits& limits = {});

}  // namespace braid
