#pragma once

// Reading a stored Dataplane's fields (already validated, so absent means "use the default").
// Shared by the generator and the mesh view.

#include <map>
#include <string>

#include "common/json.h"

namespace braid::xds {

inline constexpr const char* kServiceTag = "braid.io/service";
inline constexpr const char* kProtocolTag = "braid.io/protocol";

std::string stringAt(const Json& object, const char* key, const std::string& fallback = "");
// The array at `key`, or an empty one.
const Json& arrayAt(const Json& object, const char* key);
// `networking`, or an empty object.
const Json& networkingOf(const Json& dataplane);
// An inbound's or outbound's string tags.
std::map<std::string, std::string> tagsOf(const Json& entry);
std::string lowerCase(std::string s);

}  // namespace braid::xds
