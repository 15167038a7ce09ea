#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/field_errors.h"
#include "common/json.h"
#include "control-plane/resources/resource_type.h"

namespace braid {

// A validated resource. `content` holds everything the user wrote except the envelope (type,
// mesh, name) and the read-only metadata: `labels` and then either `spec` (policies) or the
// legacy fields, all in canonical order, so two equal resources have equal `content.dump()`.
struct Resource {
  const ResourceType* type = nullptr;
  std::string mesh;  // empty for global types
  std::string name;
  Json content = Json::object();

  // Metadata kept by the store.
  int64_t version = 0;  // 0 = never stored
  std::string creationTime;
  std::string modificationTime;

  const Json& labels() const;
  // `spec` for policies, `content` itself for legacy types.
  const Json& body() const;
};

struct ParsedResource {
  std::optional<Resource> resource;
  FieldErrors errors;
  // The `version` the document carried, if any: a precondition for updates (optimistic
  // concurrency); documents printed by `braidctl get -o yaml` carry it.
  std::optional<int64_t> expectedVersion;
};

// Validates a whole document (envelope and body), reporting every invalid field.
ParsedResource parseResource(const Json& document);

// Validates a document for a known type whose mesh and name come from elsewhere (a REST path):
// fields in the body that disagree with them are errors.
ParsedResource parseResourceAs(const ResourceType& type, const std::string& mesh,
                               const std::string& name, const Json& document);

// The document users see: type, mesh, name, creationTime, modificationTime, version, labels,
// then the fields or spec. parseResource(toDocument(r)) yields r's content unchanged.
Json toDocument(const Resource& resource);

// Name rules shared with the API and CLI.
void validateResourceName(const std::string& name, const std::string& path, bool isMesh,
                          FieldErrors& errors);
void validateMeshName(const std::string& mesh, const std::string& path, FieldErrors& errors);

}  // namespace braid
