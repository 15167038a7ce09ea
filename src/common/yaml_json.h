#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/document_limits.h"
#include "common/json.h"

namespace braid {

struct YamlDocuments {
  std::vector<Json> documents;  // empty documents ("---" with nothing after) are skipped
  std::string error;            // set when the text is not valid YAML, with line and column
};

// Parses one or more YAML documents. Plain scalars get YAML 1.2 core types (null, bool, int,
// float); quoted scalars stay strings, so `weight: "10"` and `weight: 10` differ as they should.
// Duplicate keys, non-scalar keys and documents beyond `limits` are errors.
YamlDocuments parseYaml(std::string_view text, const DocumentLimits& limits = {});

// Emits JSON as block-style YAML, quoting strings that would otherwise read back as another type.
std::string toYaml(const Json& value);

}  // namespace braid
