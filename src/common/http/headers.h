#pragma once

#include <string>
#include <utility>
#include <vector>

namespace braid::http {

// Header fields in the order received; the parser and the server keep names lowercased.
using Headers = std::vector<std::pair<std::string, std::string>>;

}  // namespace braid::http
