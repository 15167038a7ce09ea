#pragma once

#include <string>
#include <vector>

#include "common/json.h"
#include "control-plane/resources/resource.h"

namespace braid::cli {

// Validates every document with the resource library (the API's own rules). Fills `parsed` (one
// per document) and returns "" when all are valid, else the error text: for each invalid
// document a line naming it (`document 2 (MeshTimeout "t1" in mesh "default"):`) then one
// indented `field: reason` line per problem.
std::string validateDocuments(const std::vector<Json>& documents,
                              std::vector<ParsedResource>& parsed);

}  // namespace braid::cli
