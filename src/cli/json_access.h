#pragma once

// Tolerant readers for JSON that came from a server or a user: a missing key or a value of the
// wrong type reads as absent instead of throwing.

#include <string>

#include "common/json.h"

namespace braid::cli {

// The member `key` of `object`; nullptr when `object` is not an object or has no such key.
const Json* field(const Json& object, const char* key);

// The member as a string; "" when absent or not a string.
std::string stringField(const Json& object, const char* key);

// The member, or a shared null when absent.
const Json& fieldOrNull(const Json& object, const char* key);

}  // namespace braid::cli
