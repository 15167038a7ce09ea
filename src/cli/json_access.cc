#include "cli/json_access.h"

namespace braid::cli {

const Json* field(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string stringField(const Json& object, const char* key) {
  const Json* value = field(object, key);
  return value && value->is_string() ? value->get<std::string>() : std::string();
}

const Json& fieldOrNull(const Json& object, const char* key) {
  static const Json kNull;
  const Json* value = field(object, key);
  return value ? *value : kNull;
}

}  // namespace braid::cli
