// toYaml: block-style YAML output through yaml-cpp's emitter. (Input is read with libyaml:
// yaml_reader.cc.)
#include <yaml-cpp/yaml.h>

#include "common/yaml_json.h"
#include "common/yaml_scalar.h"

namespace braid {
namespace {

void emit(YAML::Emitter& out, const Json& value) {
  switch (value.type()) {
    case Json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [k, v] : value.items()) {
        out << YAML::Key << k << YAML::Value;
        emit(out, v);
      }
      out << YAML::EndMap;
      break;
    case Json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& v : value) emit(out, v);
      out << YAML::EndSeq;
      break;
    case Json::value_t::string: {
      const auto& s = value.get_ref<const std::string&>();
      if (!resolvePlainScalar(s).is_string() ||
          s.find_first_of(":#{}[],&*!|>'\"%@`") != std::string::npos ||
          s.find('\n') != std::string::npos ||
          (!s.empty() &&
           (s.front() == ' ' || s.back() == ' ' || s.front() == '-' || s.front() == '?'))) {
        out << YAML::DoubleQuoted << s;
      } else {
        out << s;
      }
      break;
    }
    case Json::value_t::boolean:
      out << (value.get<bool>() ? "true" : "false");
      break;
    case Json::value_t::null:
      out << YAML::Null;
      break;
    default:
      out << value.dump();
      break;
  }
}

}  // namespace

std::string toYaml(const Json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  out.SetMapFormat(YAML::Block);
  emit(out, value);
  std::string s = out.c_str();
  if (s.empty() || s.back() != '\n') s += '\n';
  return s;
}

}  // namespace braid
