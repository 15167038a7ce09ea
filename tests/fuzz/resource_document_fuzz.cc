// Fuzzes what users send as resources: YAML (braidctl) and JSON (the REST API) documents, through
// parsing, validation and canonicalisation. Invariants: no crash, and every accepted document
// survives a round trip unchanged (canonical output is stable).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/yaml_json.h"
#include "control-plane/resources/resource.h"

namespace {

void checkRoundTrip(const braid::Json& document) {
  auto parsed = braid::parseResource(document);
  if (!parsed.resource) return;
  auto again = braid::parseResource(braid::toDocument(*parsed.resource));
  if (!again.resource || again.resource->content.dump() != parsed.resource->content.dump()) {
    std::abort();  // canonical form is not stable
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto docs = braid::parseYaml(text);
  for (const auto& doc : docs.documents) checkRoundTrip(doc);
  auto json = braid::Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_discarded()) checkRoundTrip(json);
  return 0;
}
