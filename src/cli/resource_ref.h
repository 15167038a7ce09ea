#pragma once

// How braidctl names resources: REST paths, CLI words (plural/singular) and the phrases used in
// messages ("MeshTimeout \"t1\" in mesh \"default\"").

#include <optional>
#include <string>

#include "common/json.h"
#include "control-plane/resources/resource_type.h"

namespace braid::cli {

inline constexpr const char* kDefaultMesh = "default";

// `MeshTimeout "t1" in mesh "default"`, or `Mesh "default"` for global types (empty mesh).
std::string describeResource(const std::string& typeName, const std::string& mesh,
                             const std::string& name);
std::string describeResource(const ResourceType& type, const std::string& mesh,
                             const std::string& name);

// `MeshTimeout "t1" not found in mesh "default"` / `Mesh "m1" not found`.
std::string notFoundMessage(const ResourceType& type, const std::string& mesh,
                            const std::string& name);

// The same phrase for a document that may be invalid: uses whatever of type, mesh and name it
// carries as strings; empty when it carries none.
std::string describeDocument(const Json& document);

// `/meshes/{name}`, `/zoneingresses/{name}`… for global types, `/meshes/{mesh}/{plural}/{name}`
// for mesh-scoped ones. Segments are percent-encoded.
std::string resourcePath(const ResourceType& type, const std::string& mesh,
                         const std::string& name);
// The list endpoint: `/{plural}` or `/meshes/{mesh}/{plural}`.
std::string collectionPath(const ResourceType& type, const std::string& mesh);

// Resolves a CLI word (plural "meshtimeouts" or singular "meshtimeout"); throws CliError listing
// the known plurals when it names no type.
const ResourceType& resolveTypeWord(const std::string& word);

// The mesh a command acts in: the flag's value, or "default", for mesh-scoped types; "" for global
// types, where giving --mesh is an error.
std::string meshFor(const ResourceType& type, const std::optional<std::string>& meshFlag);

}  // namespace braid::cli
