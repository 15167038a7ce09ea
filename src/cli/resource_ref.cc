#include "cli/resource_ref.h"

#include "cli/api_client.h"
#include "cli/cli_error.h"
#include "cli/json_access.h"
#include "control-plane/resources/registry.h"

namespace braid::cli {

std::string describeResource(const std::string& typeName, const std::string& mesh,
                             const std::string& name) {
  std::string out = typeName + " \"" + name + "\"";
  if (!mesh.empty()) out += " in mesh \"" + mesh + "\"";
  return out;
}

std::string describeResource(const ResourceType& type, const std::string& mesh,
                             const std::string& name) {
  return describeResource(type.name, type.scope == Scope::kMesh ? mesh : "", name);
}

std::string notFoundMessage(const ResourceType& type, const std::string& mesh,
                            const std::string& name) {
  std::string out = type.name + " \"" + name + "\" not found";
  if (type.scope == Scope::kMesh) out += " in mesh \"" + mesh + "\"";
  return out;
}

std::string describeDocument(const Json& document) {
  if (!document.is_object()) return "";
  std::string typeName = stringField(document, "type");
  std::string name = stringField(document, "name");
  std::string mesh = stringField(document, "mesh");
  if (const ResourceType* type = findTypeByName(typeName); type && type->scope == Scope::kGlobal) {
    mesh.clear();
  }
  std::string out = typeName;
  auto word = [&out](const std::string& text) {
    if (!out.empty()) out.push_back(' ');
    out.append(text);
  };
  if (!name.empty()) word('"' + name + '"');
  if (!mesh.empty()) word("in mesh \"" + mesh + '"');
  return out;
}

std::string collectionPath(const ResourceType& type, const std::string& mesh) {
  std::string path = "/";
  if (type.scope == Scope::kMesh) path.append("meshes/").append(pathSegment(mesh)).append("/");
  return path.append(type.plural);
}

std::string resourcePath(const ResourceType& type, const std::string& mesh,
                         const std::string& name) {
  return collectionPath(type, mesh) + "/" + pathSegment(name);
}

const ResourceType& resolveTypeWord(const std::string& word) {
  if (const ResourceType* t = findTypeByPlural(word)) return *t;
  if (const ResourceType* t = findTypeBySingular(word)) return *t;
  std::string known;
  for (const auto* t : allResourceTypes()) known += (known.empty() ? "" : ", ") + t->plural;
  throw CliError("unknown resource type \"" + word + "\": use one of " + known);
}

std::string meshFor(const ResourceType& type, const std::optional<std::string>& meshFlag) {
  if (type.scope == Scope::kGlobal) {
    if (meshFlag) {
      throw CliError(type.name + " is not mesh-scoped: --mesh cannot be used with " + type.plural);
    }
    return "";
  }
  if (meshFlag && meshFlag->empty()) throw CliError("--mesh must not be empty");
  return meshFlag ? *meshFlag : kDefaultMesh;
}

}  // namespace braid::cli
