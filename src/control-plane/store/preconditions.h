#pragma once

// What every store checks before a write, with the same messages everywhere.

#include <cstdint>
#include <optional>
#include <string>

#include "control-plane/store/store.h"

namespace braid::store {

// `MeshTimeout "t1" in mesh "default"`, or `Mesh "default"` for a global type.
std::string describeKey(const Key& key);

// kConflict when a write expecting `expected` may not replace `current` (0 = the record is absent).
Error checkExpectedVersion(const Key& key, int64_t current, std::optional<int64_t> expected);

// offset < 0 counts as 0; limit < 0 means no limit.
struct Page {
  int64_t offset = 0;
  int64_t limit = -1;
};
Page normalizePage(const ListOptions& options);

Error notFound(const Key& key);
Error unavailable(std::string message);

}  // namespace braid::store
