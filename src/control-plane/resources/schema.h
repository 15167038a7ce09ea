#pragma once

// A small declarative schema language for Braid's resources. Each resource type describes its
// fields once (name, type, required, enum values, ranges, extra rules); one generic walker then
// validates a document against it, reporting *every* problem with its field path, and
// canonicalises valid documents into the schema's field order, which makes YAML ⇄ JSON round
// trips stable. See docs/adr/0002-schema-driven-resource-model.md for why.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/field_errors.h"
#include "common/json.h"

namespace braid::schema {

enum class Type {
  kObject,  // fixed properties; unknown ones are errors
  kArray,   // items of one schema
  kMap,     // free string keys, values of one schema (tags, labels)
  kString,
  kEnum,  // a string from a fixed list
  kInt,   // signed integer within [min, max]
  kBool,
  kNumber,    // any JSON number
  kDuration,  // Go-style duration string ("500ms", "1m30s", "24h", "1d")
  kPercent,   // an integer, a decimal, or a string holding a decimal ("12.5")
  kAny,       // anything (opaque JSON)
};

struct Node;
class S;

// A rule beyond the type: gets the (already type-checked) value, its path and the error sink.
using Check = std::function<void(const Json& value, const std::string& path, FieldErrors& errors)>;

struct Property {
  std::string name;
  std::shared_ptr<const Node> node;
  bool required = false;
};

struct Node {
  Type type = Type::kAny;
  std::vector<Property> properties;            // kObject
  std::shared_ptr<const Node> element;         // kArray items, kMap values
  std::vector<std::string> enumValues;         // kEnum
  std::optional<int64_t> min, max;             // kInt value, kArray/kMap size, kString length
  std::optional<double> minNumber, maxNumber;  // kPercent, kNumber
  bool nonEmpty = false;                       // kString, kArray, kMap: must not be empty
  std::vector<Check> checks;                   // run after the type and children are checked
};

// Value-semantics builder: `S::integer().min(1).max(65535)`.
class S {
 public:
  static S object(std::vector<Property> properties);
  static S array(const S& items);
  static S map(const S& values);
  static S string();
  static S enumOf(std::vector<std::string> values);
  static S integer();  // int64
  static S u32();      // 0 … 4294967295
  static S i32();      // -2147483648 … 2147483647
  static S port();     // 1 … 65535
  static S boolean();
  static S number();
  static S duration();
  static S percent();  // 0 … 100 unless widened with numberRange
  static S any();

  S min(int64_t v) const;
  S max(int64_t v) const;
  S numberRange(std::optional<double> lo, std::optional<double> hi) const;
  S notEmpty() const;
  S check(Check c) const;

  std::shared_ptr<const Node> node() const { return node_; }

 private:
  explicit S(std::shared_ptr<Node> n) : node_(std::move(n)) {}
  S mutate(const std::function<void(Node&)>& f) const;
  std::shared_ptr<Node> node_;
};

Property req(std::string name, const S& s);
Property opt(std::string name, const S& s);

// Validates `value` at `path` against `node`; appends every problem to `errors`.
void validate(const Node& node, const Json& value, const std::string& path, FieldErrors& errors);

// Returns `value` with object keys in schema order and map keys sorted. `value` must be valid.
Json canonicalize(const Node& node, const Json& value);

// Messages shared by the walker and by hand-written checks, so wording stays uniform.
namespace msg {
inline constexpr const char* kRequired = "must be defined";
inline constexpr const char* kUnknownField = "unknown field";
std::string oneOf(const std::vector<std::string>& values);  // "must be one of A, B, C"
}  // namespace msg

// Convenience for checks: the member `key` of `obj` if `obj` is an object that has it.
const Json* member(const Json& obj, const char* key);

}  // namespace braid::schema
