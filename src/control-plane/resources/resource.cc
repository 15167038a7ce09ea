#include "control-plane/resources/resource.h"

#include <re2/re2.h>

#include "control-plane/resources/registry.h"

namespace braid {
namespace {

const Json& emptyObject() {
  static const Json kEmpty = Json::object();
  return kEmpty;
}

// Envelope fields every document may carry. Metadata is output-only and ignored on input
// (except `version`, a precondition), so that `get -o yaml | apply` works.
bool isEnvelopeField(const std::string& key) {
  return key == "type" || key == "mesh" || key == "name" || key == "labels" ||
         key == "creationTime" || key == "modificationTime" || key == "version";
}

schema::S labelsSchema() { return schema::S::map(schema::S::string()); }

ParsedResource parseWith(const ResourceType& type, const Json& doc) {
  ParsedResource out;
  FieldErrors& errors = out.errors;

  std::string name, mesh;
  if (auto* n = schema::member(doc, "name"); n && n->is_string()) {
    name = n->get<std::string>();
    validateResourceName(name, "name", &type == findTypeByName("Mesh"), errors);
  } else {
    errors.add("name", n && !n->is_null() ? "must be a string" : schema::msg::kRequired);
  }

  auto* m = schema::member(doc, "mesh");
  if (type.scope == Scope::kMesh) {
    if (m && m->is_string()) {
      mesh = m->get<std::string>();
      validateMeshName(mesh, "mesh", errors);
    } else {
      errors.add("mesh", m && !m->is_null() ? "must be a string" : schema::msg::kRequired);
    }
  } else if (m && !m->is_null()) {
    errors.add("mesh", "must not be set: " + type.name + " is not mesh-scoped");
  }

  if (auto* v = schema::member(doc, "version"); v && !v->is_null()) {
    if (v->is_number_integer() && v->get<int64_t>() >= 0) {
      out.expectedVersion = v->get<int64_t>();
    } else {
      errors.add("version", "must be a non-negative integer");
    }
  }
  for (const char* meta : {"creationTime", "modificationTime"}) {
    if (auto* t = schema::member(doc, meta); t && !t->is_null() && !t->is_string()) {
      errors.add(meta, "must be a string");
    }
  }

  Json labels = Json::object();
  if (auto* l = schema::member(doc, "labels"); l && !l->is_null()) {
    schema::validate(*labelsSchema().node(), *l, "labels", errors);
    if (l->is_object()) labels = schema::canonicalize(*labelsSchema().node(), *l);
  }

  Json body = Json::object();
  if (type.layout == Layout::kPolicy) {
    for (const auto& [key, value] : doc.items()) {
      if (!isEnvelopeField(key) && key != "spec") errors.add(key, schema::msg::kUnknownField);
    }
    auto* spec = schema::member(doc, "spec");
    Json specValue = spec && !spec->is_null() ? *spec : Json::object();
    schema::validate(*type.body.node(), specValue, "spec", errors);
    body = schema::canonicalize(*type.body.node(), specValue);
  } else {
    Json fields = Json::object();
    for (const auto& [key, value] : doc.items()) {
      if (!isEnvelopeField(key)) fields[key] = value;
    }
    schema::validate(*type.body.node(), fields, "", errors);
    body = schema::canonicalize(*type.body.node(), fields);
  }

  if (!errors.empty()) return out;
  Resource r;
  r.type = &type;
  r.mesh = mesh;
  r.name = name;
  if (!labels.empty()) r.content["labels"] = labels;
  if (type.layout == Layout::kPolicy) {
    r.content["spec"] = body;
  } else {
    for (const auto& [key, value] : body.items()) r.content[key] = value;
  }
  out.resource = std::move(r);
  return out;
}

}  // namespace

const Json& Resource::labels() const {
  auto it = content.find("labels");
  return it == content.end() ? emptyObject() : *it;
}

const Json& Resource::body() const {
  if (type && type->layout == Layout::kPolicy) {
    auto it = content.find("spec");
    return it == content.end() ? emptyObject() : *it;
  }
  return content;
}

void validateResourceName(const std::string& name, const std::string& path, bool isMesh,
                          FieldErrors& errors) {
  static const RE2 kSubdomain("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  if (name.empty()) {
    errors.add(path, "must not be empty");
    return;
  }
  size_t limit = isMesh ? 63 : 253;
  if (name.size() > limit) {
    errors.add(path, "must be at most " + std::to_string(limit) + " characters long");
  } else if (!RE2::FullMatch(name, kSubdomain)) {
    errors.add(path,
               "must be a lowercase RFC 1123 subdomain: lowercase letters, digits, '-' and '.', "
               "starting and ending with a letter or digit");
  }
}

void validateMeshName(const std::string& mesh, const std::string& path, FieldErrors& errors) {
  static const RE2 kMeshChars("[0-9a-z_.-]+");
  if (mesh.empty()) {
    errors.add(path, "must not be empty");
  } else if (mesh.size() > 63) {
    errors.add(path, "must be at most 63 characters long");
  } else if (!RE2::FullMatch(mesh, kMeshChars)) {
    errors.add(path, "may contain only lowercase letters, digits, '-', '_' and '.'");
  }
}

ParsedResource parseResource(const Json& document) {
  ParsedResource out;
  if (!document.is_object()) {
    out.errors.add("", "a resource must be an object with type, name and its fields");
    return out;
  }
  auto* t = schema::member(document, "type");
  if (!t || t->is_null()) {
    out.errors.add("type", schema::msg::kRequired);
    return out;
  }
  if (!t->is_string()) {
    out.errors.add("type", "must be a string");
    return out;
  }
  const ResourceType* type = findTypeByName(t->get<std::string>());
  if (!type) {
    std::vector<std::string> names;
    for (const auto* rt : allResourceTypes()) names.push_back(rt->name);
    out.errors.add("type", "unknown resource type '" + t->get<std::string>() +
                               "': " + schema::msg::oneOf(names));
    return out;
  }
  return parseWith(*type, document);
}

ParsedResource parseResourceAs(const ResourceType& type, const std::string& mesh,
                               const std::string& name, const Json& document) {
  ParsedResource out;
  if (!document.is_object()) {
    out.errors.add("", "the body must be a JSON object");
    return out;
  }
  Json doc = document;
  auto requireSame = [&](const char* key, const std::string& expected) {
    auto* v = schema::member(document, key);
    if (!v || v->is_null()) {
      doc[key] = expected;
    } else if (!v->is_string() || v->get<std::string>() != expected) {
      out.errors.add(key, "must be '" + expected + "' as in the request path");
    }
  };
  if (auto* t = schema::member(document, "type"); t && !t->is_null() && *t != type.name) {
    out.errors.add("type", "must be '" + type.name + "' as in the request path");
  }
  doc["type"] = type.name;
  requireSame("name", name);
  if (type.scope == Scope::kMesh) requireSame("mesh", mesh);
  auto parsed = parseWith(type, doc);
  out.errors.append(parsed.errors);
  if (out.errors.empty()) {
    out.resource = std::move(parsed.resource);
  }
  out.expectedVersion = parsed.expectedVersion;
  return out;
}

Json toDocument(const Resource& r) {
  Json doc = Json::object();
  doc["type"] = r.type->name;
  if (r.type->scope == Scope::kMesh) doc["mesh"] = r.mesh;
  doc["name"] = r.name;
  if (!r.creationTime.empty()) doc["creationTime"] = r.creationTime;
  if (!r.modificationTime.empty()) doc["modificationTime"] = r.modificationTime;
  if (r.version > 0) doc["version"] = r.version;
  for (const auto& [key, value] : r.content.items()) doc[key] = value;
  return doc;
}

}  // namespace braid
