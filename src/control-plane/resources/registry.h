#pragma once

#include <string_view>
#include <vector>

#include "control-plane/resources/resource_type.h"

namespace braid {

// Every resource type of CONTRACT §4, in the contract's order.
const std::vector<const ResourceType*>& allResourceTypes();

// Lookups; nullptr when unknown.
const ResourceType* findTypeByName(std::string_view name);          // "MeshTimeout"
const ResourceType* findTypeByPlural(std::string_view plural);      // "meshtimeouts"
const ResourceType* findTypeBySingular(std::string_view singular);  // "meshtimeout"

}  // namespace braid
