#include "control-plane/xds/dataplane_fields.h"

#include <algorithm>

namespace braid::xds {

// contains()/at() rather than find(): GCC 12 reports a false null dereference in nlohmann's
// iterators at -O3.
std::string stringAt(const Json& object, const char* key, const std::string& fallback) {
  if (!object.is_object() || !object.contains(key) || !object.at(key).is_string()) return fallback;
  return object.at(key).get<std::string>();
}

const Json& arrayAt(const Json& object, const char* key) {
  static const Json kEmpty = Json::array();
  if (!object.is_object() || !object.contains(key) || !object.at(key).is_array()) return kEmpty;
  return object.at(key);
}

const Json& networkingOf(const Json& dataplane) {
  static const Json kEmpty = Json::object();
  if (!dataplane.is_object() || !dataplane.contains("networking")) return kEmpty;
  const Json& networking = dataplane.at("networking");
  return networking.is_object() ? networking : kEmpty;
}

std::map<std::string, std::string> tagsOf(const Json& entry) {
  std::map<std::string, std::string> tags;
  if (!entry.is_object() || !entry.contains("tags") || !entry.at("tags").is_object()) return tags;
  for (const auto& [k, v] : entry.at("tags").items()) {
    if (v.is_string()) tags[k] = v.get<std::string>();
  }
  return tags;
}

std::string lowerCase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace braid::xds
