#pragma once

// The dataplane file braid-dp registers with (CONTRACT §5): a Dataplane YAML in which
// `{{ KEY }}` is replaced by `--dataplane-var KEY=VALUE`.

#include <map>
#include <string>

namespace braid::dataplane {

struct DataplaneFile {
  std::string text;  // after substitution: what is sent to the CP
  std::string type;  // "Dataplane", "ZoneIngress", …
  std::string mesh;
  std::string name;
};

// Substitutes every `{{ KEY }}` (spaces optional); a placeholder without a variable is an error.
// Variables no placeholder uses are fine (systemd's unit passes `name` to every file).
bool substituteVariables(const std::string& text, const std::map<std::string, std::string>& vars,
                         std::string& out, std::string& error);

// Reads, substitutes and validates the file with the CP's own rules (every invalid field listed).
bool loadDataplaneFile(const std::string& path, const std::map<std::string, std::string>& vars,
                       DataplaneFile& out, std::string& error);

}  // namespace braid::dataplane
