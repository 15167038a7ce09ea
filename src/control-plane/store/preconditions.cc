#include "control-plane/store/preconditions.h"

#include <utility>

namespace braid::store {

std::string describeKey(const Key& key) {
  std::string out = key.type + " \"" + key.name + "\"";
  if (!key.mesh.empty()) out += " in mesh \"" + key.mesh + "\"";
  return out;
}

Error checkExpectedVersion(const Key& key, int64_t current, std::optional<int64_t> expected) {
  if (!expected || *expected == current) return {};
  std::string message;
  if (*expected == 0) {
    message = describeKey(key) + " already exists (version " + std::to_string(current) + ")";
  } else if (current == 0) {
    message =
        describeKey(key) + " does not exist (expected version " + std::to_string(*expected) + ")";
  } else {
    message = describeKey(key) + " is at version " + std::to_string(current) +
              ", not the expected " + std::to_string(*expected);
  }
  return Error{ErrorCode::kConflict, std::move(message)};
}

Page normalizePage(const ListOptions& options) {
  return Page{options.offset < 0 ? 0 : options.offset, options.limit < 0 ? -1 : options.limit};
}

Error notFound(const Key& key) {
  return Error{ErrorCode::kNotFound, describeKey(key) + " not found"};
}

Error unavailable(std::string message) {
  return Error{ErrorCode::kUnavailable, std::move(message)};
}

}  // namespace braid::store
