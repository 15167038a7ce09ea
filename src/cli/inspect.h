#pragma once

#include <chrono>
#include <string>

#include "common/json.h"

namespace braid::cli {

// The `inspect dataplanes` table: MESH NAME TAGS STATUS CONFIG ACKED CERT EXPIRY, one row per
// DataplaneOverview item.
std::string dataplaneOverviewTable(const Json& items);

}  // namespace braid::cli
