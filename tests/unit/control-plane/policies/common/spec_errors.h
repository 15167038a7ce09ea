#pragma once

// Helpers for table-driven policy tests: validate a policy whose spec is given as one line of
// YAML (usually flow style) and return every error as "field: reason" lines ("" = accepted).

#include <gtest/gtest.h>

#include <string>

#include "common/yaml_json.h"
#include "control-plane/resources/resource.h"

namespace braid::testing {

inline std::string policyDocument(const std::string& type, const std::string& spec) {
  return "type: " + type + "\nmesh: default\nname: p\nspec: " + spec + "\n";
}

inline std::string documentErrors(const std::string& yaml) {
  auto docs = parseYaml(yaml);
  if (!docs.error.empty() || docs.documents.size() != 1) return "bad test YAML: " + docs.error;
  return parseResource(docs.documents[0]).errors.toString();
}

inline std::string specErrors(const std::string& type, const std::string& spec) {
  return documentErrors(policyDocument(type, spec));
}

// One row of a table: a name for gtest, the spec, and the exact errors expected.
struct SpecCase {
  const char* name;
  const char* spec;
  const char* errors;
};

inline std::string caseName(const ::testing::TestParamInfo<SpecCase>& info) {
  return info.param.name;
}

}  // namespace braid::testing
