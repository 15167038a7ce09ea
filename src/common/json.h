#pragma once

// Braid keeps documents as insertion-ordered JSON so that field order survives every round trip.
#include <nlohmann/json.hpp>

namespace braid {
using Json = nlohmann::ordered_json;
}  // namespace braid
