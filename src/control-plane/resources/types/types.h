#pragma once

// Accessors for every resource type's descriptor; each is defined in its own file
// (resources/types/<type>.cc for legacy types, policies/<policy>/<policy>.cc for policies).

#include "control-plane/resources/resource_type.h"

namespace braid {

const ResourceType& meshType();

}  // namespace braid
