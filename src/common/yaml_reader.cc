// parseYaml: reads YAML with libyaml's event parser and builds JSON directly. libyaml is the
// reference C implementation and is continuously fuzzed; yaml-cpp 0.7's parser loops forever on
// some malformed flow collections (found by tests/fuzz/resource_document_fuzz), so it is only
// used for output (yaml_writer.cc). See docs/adr/0001-libraries.md.
#include <yaml.h>

#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/yaml_json.h"
#include "common/yaml_scalar.h"

namespace braid {
namespace {

// Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or npos. JSON output requires valid UTF-8.
size_t invalidUtf8Offset(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
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

struct YamlError {
  std::string message;
};

// One open collection while the event stream is read.
struct Frame {
  Json value;
  std::string anchor;
  size_t nodesAtStart = 0;
  size_t bytesAtStart = 0;
  // Mappings: the key waiting for its value, and the keys seen (to refuse duplicates).
  bool isMapping = false;
  bool hasKey = false;
  std::string key;
  std::unordered_set<std::string> keys;
};

class DocumentBuilder {
 public:
  explicit DocumentBuilder(const DocumentLimits& limits) : limits_(limits) {}

  // Handles one event; returns a finished document when the event closed one.
  std::optional<Json> handle(const yaml_event_t& e) {
    switch (e.type) {
      case YAML_DOCUMENT_START_EVENT:
        anchors_.clear();
        nodes_ = 0;
        bytes_ = 0;
        break;
      case YAML_MAPPING_START_EVENT:
      case YAML_SEQUENCE_START_EVENT: {
        const bool mapping = e.type == YAML_MAPPING_START_EVENT;
        checkCanNest(e);
        Frame f;
        f.isMapping = mapping;
        f.value = mapping ? Json::object() : Json::array();
        const yaml_char_t* anchor =
            mapping ? e.data.mapping_start.anchor : e.data.sequence_start.anchor;
        if (anchor) f.anchor = reinterpret_cast<const char*>(anchor);
        f.nodesAtStart = countNode(e);
        f.bytesAtStart = bytes_;
        stack_.push_back(std::move(f));
        break;
      }
      case YAML_MAPPING_END_EVENT:
      case YAML_SEQUENCE_END_EVENT: {
        Frame f = std::move(stack_.back());
        stack_.pop_back();
        remember(f.anchor, f.value, nodes_ - f.nodesAtStart + 1, bytes_ - f.bytesAtStart);
        return add(std::move(f.value), e);
      }
      case YAML_SCALAR_EVENT: {
        countNode(e);
        countBytes(e, e.data.scalar.length);
        std::string text(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
        const char* tag = reinterpret_cast<const char*>(e.data.scalar.tag);
        bool isString = e.data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
                        (tag && std::string(tag) == YAML_STR_TAG);
        if (!stack_.empty() && stack_.back().isMapping && !stack_.back().hasKey) {
          setKey(std::move(text), e);
          break;
        }
        Json value = isString ? Json(text) : resolvePlainScalar(text);
        if (e.data.scalar.anchor) {
          remember(reinterpret_cast<const char*>(e.data.scalar.anchor), value, 1,
                   e.data.scalar.length);
        }
        return add(std::move(value), e);
      }
      case YAML_ALIAS_EVENT: {
        auto it = anchors_.find(reinterpret_cast<const char*>(e.data.alias.anchor));
        if (it == anchors_.end()) fail(e, "unknown alias");
        // An alias copies its anchor's whole tree: it counts every node again, so that
        // "billion laughs" documents hit the node budget instead of exhausting memory.
        nodes_ += it->second.nodes;
        if (nodes_ > limits_.maxNodes) fail(e, tooLarge());
        countBytes(e, it->second.bytes);
        if (!stack_.empty() && stack_.back().isMapping && !stack_.back().hasKey) {
          if (!it->second.value.is_string()) fail(e, "map keys must be plain strings");
          setKey(it->second.value.get<std::string>(), e);
          break;
        }
        return add(Json(it->second.value), e);
      }
      default:
        break;
    }
    return std::nullopt;
  }

 private:
  struct Anchored {
    Json value;
    size_t nodes;
    size_t bytes;
  };

  [[noreturn]] void fail(const yaml_event_t& e, const std::string& what) {
    throw YamlError{"invalid YAML at line " + std::to_string(e.start_mark.line + 1) + ", column " +
                    std::to_string(e.start_mark.column + 1) + ": " + what};
  }

  std::string tooLarge() const {
    return "the document is too large: more than " + std::to_string(limits_.maxNodes) + " values";
  }

  size_t countNode(const yaml_event_t& e) {
    if (++nodes_ > limits_.maxNodes) fail(e, tooLarge());
    return nodes_;
  }

  void checkCanNest(const yaml_event_t& e) {
    if (!stack_.empty() && stack_.back().isMapping && !stack_.back().hasKey) {
      fail(e, "map keys must be plain strings");
    }
    if (stack_.size() >= limits_.maxDepth) {
      fail(e, "the document is nested deeper than " + std::to_string(limits_.maxDepth) + " levels");
    }
  }

  void setKey(std::string key, const yaml_event_t& e) {
    Frame& f = stack_.back();
    if (!f.keys.insert(key).second) fail(e, "duplicate key '" + key + "'");
    if (f.keys.size() > limits_.maxKeysPerObject) {
      fail(e, "a map has more than " + std::to_string(limits_.maxKeysPerObject) + " keys");
    }
    f.key = std::move(key);
    f.hasKey = true;
  }

  void remember(const std::string& anchor, const Json& value, size_t nodes, size_t bytes) {
    if (!anchor.empty()) anchors_[anchor] = {value, nodes, bytes};
  }

  void countBytes(const yaml_event_t& e, size_t n) {
    bytes_ += n;
    if (bytes_ > limits_.maxScalarBytes) {
      fail(e, "the document is too large: more than " + std::to_string(limits_.maxScalarBytes) +
                  " bytes of values");
    }
  }

  // Places a finished value in its parent, or returns it when it is a document's root.
  std::optional<Json> add(Json value, const yaml_event_t&) {
    if (stack_.empty()) return value;
    Frame& f = stack_.back();
    if (f.isMapping) {
      // Keys are known to be unique: append without ordered_map's linear lookup.
      f.value.get_ref<Json::object_t&>().emplace_back(std::move(f.key), std::move(value));
      f.hasKey = false;
    } else {
      f.value.push_back(std::move(value));
    }
    return std::nullopt;
  }

  const DocumentLimits& limits_;
  std::vector<Frame> stack_;
  std::unordered_map<std::string, Anchored> anchors_;
  size_t nodes_ = 0;
  size_t bytes_ = 0;
};

}  // namespace

YamlDocuments parseYaml(std::string_view text, const DocumentLimits& limits) {
  YamlDocuments result;
  if (size_t bad = invalidUtf8Offset(text); bad != std::string_view::npos) {
    result.error = "invalid YAML: the text is not valid UTF-8 (byte " + std::to_string(bad) + ")";
    return result;
  }
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) {
    result.error = "invalid YAML: cannot initialise the parser";
    return result;
  }
  std::unique_ptr<yaml_parser_t, void (*)(yaml_parser_t*)> guard(&parser, yaml_parser_delete);
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  DocumentBuilder builder(limits);
  try {
    for (;;) {
      yaml_event_t event;
      if (!yaml_parser_parse(&parser, &event)) {
        result.documents.clear();
        result.error = "invalid YAML at line " + std::to_string(parser.problem_mark.line + 1) +
                       ", column " + std::to_string(parser.problem_mark.column + 1) + ": " +
                       (parser.problem ? parser.problem : "syntax error");
        if (parser.context) result.error += std::string(" ") + parser.context;
        return result;
      }
      std::unique_ptr<yaml_event_t, void (*)(yaml_event_t*)> owned(&event, yaml_event_delete);
      if (event.type == YAML_STREAM_END_EVENT) break;
      if (auto doc = builder.handle(event); doc && !doc->is_null()) {
        result.documents.push_back(std::move(*doc));
      }
    }
  } catch (const YamlError& e) {
    result.documents.clear();
    result.error = e.message;
  }
  return result;
}

}  // namespace braid
