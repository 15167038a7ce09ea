#include "common/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <regex>
#include <unordered_set>

namespace braid {
namespace {

// YAML 1.2 core schema resolution for a plain (unquoted) scalar.
Json plainScalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(s, kInt)) {
    const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
    int64_t i = 0;
    auto [ptr, ec] = std::from_chars(begin, s.data() + s.size(), i);
    if (ec == std::errc() && ptr == s.data() + s.size()) return i;
    uint64_t u = 0;
    auto [uptr, uec] = std::from_chars(begin, s.data() + s.size(), u);
    if (uec == std::errc() && uptr == s.data() + s.size()) return u;
    return std::stod(s);
  }
  if (std::regex_match(s, kFloat)) return std::stod(s);
  return s;
}

// Converts yaml-cpp's tree within DocumentLimits. Aliases are expanded by yaml-cpp, so the
// node budget is what stops an exponential "billion laughs" document.
class Converter {
 public:
  explicit Converter(const DocumentLimits& limits) : limits_(limits) {}

  Json convert(const YAML::Node& node, size_t depth) {
    if (++nodes_ > limits_.maxNodes) {
      throw YAML::Exception(node.Mark(), "the document is too large: more than " +
                                             std::to_string(limits_.maxNodes) + " values");
    }
    if (depth > limits_.maxDepth) {
      throw YAML::Exception(node.Mark(), "the document is nested deeper than " +
                                             std::to_string(limits_.maxDepth) + " levels");
    }
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return nullptr;
      case YAML::NodeType::Scalar:
        // Tag "!" marks a quoted scalar, which is always a string.
        if (node.Tag() == "!") return node.Scalar();
        return plainScalar(node.Scalar());
      case YAML::NodeType::Sequence: {
        Json arr = Json::array();
        for (const auto& item : node) arr.push_back(convert(item, depth + 1));
        return arr;
      }
      case YAML::NodeType::Map: {
        Json obj = Json::object();
        auto& members = obj.get_ref<Json::object_t&>();
        std::unordered_set<std::string> seen;
        for (const auto& kv : node) {
          if (!kv.first.IsScalar()) {
            throw YAML::Exception(kv.first.Mark(), "map keys must be plain strings");
          }
          const std::string& key = kv.first.Scalar();
          if (!seen.insert(key).second) {
            throw YAML::Exception(kv.first.Mark(), "duplicate key '" + key + "'");
          }
          if (seen.size() > limits_.maxKeysPerObject) {
            throw YAML::Exception(kv.first.Mark(), "a map has more than " +
                                                       std::to_string(limits_.maxKeysPerObject) +
                                                       " keys");
          }
          // Keys are known to be unique: append without ordered_map's linear lookup.
          members.emplace_back(key, convert(kv.second, depth + 1));
        }
        return obj;
      }
    }
    return nullptr;
  }

 private:
  const DocumentLimits& limits_;
  size_t nodes_ = 0;
};

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
      if (!plainScalar(s).is_string() || s.find_first_of(":#{}[],&*!|>'\"%@`") != std::string::npos ||
          s.find('\n') != std::string::npos || (!s.empty() && (s.front() == ' ' || s.back() == ' ' || s.front() == '-' || s.front() == '?'))) {
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

// Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or npos. JSON output requires valid UTF-8.
size_t invalidUtf8Offset(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return i;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

}  // namespace

YamlDocuments parseYaml(std::string_view text, const DocumentLimits& limits) {
  YamlDocuments result;
  if (size_t bad = invalidUtf8Offset(text); bad != std::string_view::npos) {
    result.error = "invalid YAML: the text is not valid UTF-8 (byte " + std::to_string(bad) + ")";
    return result;
  }
  try {
    for (const auto& doc : YAML::LoadAll(std::string(text))) {
      if (doc.IsNull() || !doc.IsDefined()) continue;
      result.documents.push_back(Converter(limits).convert(doc, 0));
    }
  } catch (const YAML::Exception& e) {
    result.documents.clear();
    result.error = "invalid YAML at line " + std::to_string(e.mark.line + 1) + ", column " +
                   std::to_string(e.mark.column + 1) + ": " + e.msg;
  }
  return result;
}

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
