#pragma once

#include <memory>
#include <string>

#include "control-plane/resources/schema.h"

namespace braid {

enum class Scope { kGlobal, kMesh };

// Kuma's two layouts: legacy resources keep their fields at the top level of the document,
// policies nest them under `spec`.
enum class Layout { kLegacy, kPolicy };

// Everything Braid knows about one resource type. One instance per type, listed in registry.cc.
struct ResourceType {
  std::string name;      // "MeshTimeout": the `type` field of documents
  std::string plural;    // "meshtimeouts": API paths and `braidctl get`
  std::string singular;  // "meshtimeout": `braidctl get meshtimeout NAME`
  Scope scope = Scope::kMesh;
  Layout layout = Layout::kPolicy;
  bool readOnly = false;  // written by the CP only (Zone)
  // For policies: the schema of `spec`. For legacy types: an object schema of the fields that sit
  // beside type/name/mesh/labels.
  schema::S body = schema::S::object({});
};

}  // namespace braid
