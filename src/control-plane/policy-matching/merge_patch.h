#pragma once

// JSON merge patch (RFC 7386), the rule Kuma uses to combine the `default` blocks of policies:
// objects merge key by key, recursively; a null value deletes the key; anything else (scalars and
// arrays) replaces the old value whole.

#include "common/json.h"

namespace braid::policy_matching {

// Applies `patch` to `target` in place.
void applyMergePatch(Json& target, const Json& patch);

// `target` with `patch` applied.
Json mergePatch(Json target, const Json& patch);

}  // namespace braid::policy_matching
