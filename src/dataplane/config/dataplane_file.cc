#include "dataplane/config/dataplane_file.h"

#include <fstream>
#include <sstream>

#include "common/yaml_json.h"
#include "control-plane/resources/resource.h"

namespace braid::dataplane {
namespace {
bool isSpace(char c) { return c == ' ' || c == '\t'; }
}  // namespace

bool substituteVariables(const std::string& text, const std::map<std::string, std::string>& vars,
                         std::string& out, std::string& error) {
  out.clear();
  size_t pos = 0;
  while (true) {
    size_t open = text.find("{{", pos);
    if (open == std::string::npos) break;
    size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) {
      error = "unterminated '{{' in the dataplane file";
      return false;
    }
    size_t b = open + 2, e = close;
    while (b < e && isSpace(text[b])) ++b;
    while (e > b && isSpace(text[e - 1])) --e;
    std::string key = text.substr(b, e - b);
    auto it = vars.find(key);
    if (it == vars.end()) {
      error = "the dataplane file uses {{ " + key + " }} but no --dataplane-var " + key +
              "=VALUE was given";
      return false;
    }
    out += text.substr(pos, open - pos) + it->second;
    pos = close + 2;
  }
  out += text.substr(pos);
  return true;
}

bool loadDataplaneFile(const std::string& path, const std::map<std::string, std::string>& vars,
                       DataplaneFile& out, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read the dataplane file " + path;
    return false;
  }
  std::stringstream raw;
  raw << in.rdbuf();
  if (!substituteVariables(raw.str(), vars, out.text, error)) return false;
  auto yaml = parseYaml(out.text);
  if (!yaml.error.empty()) {
    error = path + ": " + yaml.error;
    return false;
  }
  if (yaml.documents.size() != 1) {
    error = path + ": expected exactly one YAML document, found " +
            std::to_string(yaml.documents.size());
    return false;
  }
  ParsedResource parsed = parseResource(yaml.documents[0]);
  if (!parsed.errors.empty()) {
    error = path + " is invalid:\n" + parsed.errors.toString();
    return false;
  }
  out.type = parsed.resource->type->name;
  out.mesh = parsed.resource->mesh;
  out.name = parsed.resource->name;
  return true;
}

}  // namespace braid::dataplane
