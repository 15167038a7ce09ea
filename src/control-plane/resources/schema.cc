#include "control-plane/resources/schema.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "common/duration.h"

namespace braid::schema {
namespace {

std::shared_ptr<Node> make(Type t) {
  auto n = std::make_shared<Node>();
  n->type = t;
  return n;
}

std::string describe(Type t) {
  switch (t) {
    case Type::kObject:
      return "must be an object";
    case Type::kArray:
      return "must be a list";
    case Type::kMap:
      return "must be a map of strings";
    case Type::kString:
    case Type::kEnum:
      return "must be a string";
    case Type::kInt:
      return "must be an integer";
    case Type::kBool:
      return "must be a boolean";
    case Type::kNumber:
      return "must be a number";
    case Type::kDuration:
      return "must be a duration string such as 500ms, 1m30s or 24h";
    case Type::kPercent:
      return "must be a number or a string holding a number";
    case Type::kAny:
      return "";
  }
  return "";
}

bool typeMatches(Type t, const Json& v) {
  switch (t) {
    case Type::kObject:
    case Type::kMap:
      return v.is_object();
    case Type::kArray:
      return v.is_array();
    case Type::kString:
    case Type::kEnum:
    case Type::kDuration:
      return v.is_string();
    case Type::kInt:
      return v.is_number_integer();
    case Type::kBool:
      return v.is_boolean();
    case Type::kNumber:
      return v.is_number();
    case Type::kPercent:
      return v.is_number() || v.is_string();
    case Type::kAny:
      return true;
  }
  return false;
}

std::optional<double> percentValue(const Json& v) {
  if (v.is_number()) return v.get<double>();
  const auto& s = v.get_ref<const std::string&>();
  double d = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return d;
}

std::string formatNumber(double d) {
  if (d == static_cast<int64_t>(d)) return std::to_string(static_cast<int64_t>(d));
  std::string s = std::to_string(d);
  while (!s.empty() && s.back() == '0') s.pop_back();
  return s;
}

void checkRange(const Node& node, const Json& value, const std::string& path, FieldErrors& errors) {
  if (value.is_number_unsigned()) {
    // JSON parsers hand non-negative integers over as unsigned (YAML ones as signed): both
    // bounds apply either way.
    auto u = value.get<uint64_t>();
    if (node.min && *node.min > 0 && u < static_cast<uint64_t>(*node.min)) {
      errors.add(path, "must be >= " + std::to_string(*node.min));
    }
    if (node.max && (*node.max < 0 || u > static_cast<uint64_t>(*node.max))) {
      errors.add(path, "must be <= " + std::to_string(*node.max));
    }
    return;
  }
  auto i = value.get<int64_t>();
  if (node.min && i < *node.min) errors.add(path, "must be >= " + std::to_string(*node.min));
  if (node.max && i > *node.max) errors.add(path, "must be <= " + std::to_string(*node.max));
}

void checkNumberRange(const Node& node, double d, const std::string& path, FieldErrors& errors) {
  if (node.minNumber && d < *node.minNumber) {
    errors.add(path, "must be >= " + formatNumber(*node.minNumber));
  }
  if (node.maxNumber && d > *node.maxNumber) {
    errors.add(path, "must be <= " + formatNumber(*node.maxNumber));
  }
}

void checkSize(const Node& node, size_t size, const std::string& path, FieldErrors& errors,
               const char* what) {
  if (node.nonEmpty && size == 0) {
    errors.add(path, "must not be empty");
    return;
  }
  if (node.min && static_cast<int64_t>(size) < *node.min) {
    errors.add(path, "must have at least " + std::to_string(*node.min) + " " + what);
  }
  if (node.max && static_cast<int64_t>(size) > *node.max) {
    errors.add(path, "must have at most " + std::to_string(*node.max) + " " + what);
  }
}

}  // namespace

namespace msg {
std::string oneOf(const std::vector<std::string>& values) {
  std::string s = "must be one of ";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) s += ", ";
    s += values[i];
  }
  return s;
}
}  // namespace msg

const Json* member(const Json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

S S::object(std::vector<Property> properties) {
  auto n = make(Type::kObject);
  n->properties = std::move(properties);
  return S(n);
}
S S::array(const S& items) {
  auto n = make(Type::kArray);
  n->element = items.node_;
  return S(n);
}
S S::map(const S& values) {
  auto n = make(Type::kMap);
  n->element = values.node_;
  return S(n);
}
S S::string() { return S(make(Type::kString)); }
S S::enumOf(std::vector<std::string> values) {
  auto n = make(Type::kEnum);
  n->enumValues = std::move(values);
  return S(n);
}
S S::integer() { return S(make(Type::kInt)); }
S S::u32() { return integer().min(0).max(std::numeric_limits<uint32_t>::max()); }
S S::i32() {
  return integer()
      .min(std::numeric_limits<int32_t>::min())
      .max(std::numeric_limits<int32_t>::max());
}
S S::port() { return integer().min(1).max(65535); }
S S::boolean() { return S(make(Type::kBool)); }
S S::number() { return S(make(Type::kNumber)); }
S S::duration() { return S(make(Type::kDuration)); }
S S::percent() { return S(make(Type::kPercent)).numberRange(0, 100); }
S S::any() { return S(make(Type::kAny)); }

S S::mutate(const std::function<void(Node&)>& f) const {
  auto copy = std::make_shared<Node>(*node_);
  f(*copy);
  return S(copy);
}
S S::min(int64_t v) const {
  return mutate([v](Node& n) { n.min = v; });
}
S S::max(int64_t v) const {
  return mutate([v](Node& n) { n.max = v; });
}
S S::numberRange(std::optional<double> lo, std::optional<double> hi) const {
  return mutate([lo, hi](Node& n) {
    n.minNumber = lo;
    n.maxNumber = hi;
  });
}
S S::notEmpty() const {
  return mutate([](Node& n) { n.nonEmpty = true; });
}
S S::check(Check c) const {
  return mutate([c = std::move(c)](Node& n) { n.checks.push_back(c); });
}

Property req(std::string name, const S& s) { return {std::move(name), s.node(), true}; }
Property opt(std::string name, const S& s) { return {std::move(name), s.node(), false}; }

void validate(const Node& node, const Json& value, const std::string& path, FieldErrors& errors) {
  if (!typeMatches(node.type, value)) {
    errors.add(path, value.is_null() ? msg::kRequired : describe(node.type));
    return;
  }
  switch (node.type) {
    case Type::kObject: {
      for (const auto& [key, child] : value.items()) {
        bool known = std::any_of(node.properties.begin(), node.properties.end(),
                                 [&key = key](const Property& p) { return p.name == key; });
        if (!known) errors.add(joinPath(path, key), msg::kUnknownField);
      }
      for (const auto& p : node.properties) {
        auto it = value.find(p.name);
        if (it == value.end() || it->is_null()) {
          if (p.required) errors.add(joinPath(path, p.name), msg::kRequired);
          continue;
        }
        validate(*p.node, *it, joinPath(path, p.name), errors);
      }
      break;
    }
    case Type::kArray:
      checkSize(node, value.size(), path, errors, "items");
      for (size_t i = 0; i < value.size(); ++i) {
        validate(*node.element, value[i], indexPath(path, i), errors);
      }
      break;
    case Type::kMap:
      checkSize(node, value.size(), path, errors, "entries");
      for (const auto& [key, child] : value.items()) {
        validate(*node.element, child, joinPath(path, key), errors);
      }
      break;
    case Type::kString: {
      auto len = value.get_ref<const std::string&>().size();
      if (node.nonEmpty && len == 0) errors.add(path, "must not be empty");
      if (node.max && static_cast<int64_t>(len) > *node.max) {
        errors.add(path, "must be at most " + std::to_string(*node.max) + " characters long");
      }
      break;
    }
    case Type::kEnum: {
      const auto& s = value.get_ref<const std::string&>();
      if (std::find(node.enumValues.begin(), node.enumValues.end(), s) == node.enumValues.end()) {
        errors.add(path, msg::oneOf(node.enumValues));
      }
      break;
    }
    case Type::kInt:
      checkRange(node, value, path, errors);
      break;
    case Type::kNumber:
      checkNumberRange(node, value.get<double>(), path, errors);
      break;
    case Type::kDuration:
      if (!parseDuration(value.get_ref<const std::string&>())) {
        errors.add(path, describe(Type::kDuration));
      }
      break;
    case Type::kPercent: {
      auto d = percentValue(value);
      if (!d) {
        errors.add(path, "string must be a valid number");
      } else {
        checkNumberRange(node, *d, path, errors);
      }
      break;
    }
    case Type::kBool:
    case Type::kAny:
      break;
  }
  // Extra rules run even when a child is invalid, so that cross-field problems are reported
  // together with the rest. A rule that meets a child of the wrong type (already reported above)
  // stops there: nlohmann's type_error is its "cannot judge" signal.
  for (const auto& c : node.checks) {
    try {
      c(value, path, errors);
    } catch (const Json::exception&) {
    }
  }
}

Json canonicalize(const Node& node, const Json& value) {
  switch (node.type) {
    case Type::kObject: {
      if (!value.is_object()) return value;
      Json out = Json::object();
      for (const auto& p : node.properties) {
        auto it = value.find(p.name);
        if (it != value.end() && !it->is_null()) out[p.name] = canonicalize(*p.node, *it);
      }
      return out;
    }
    case Type::kArray: {
      if (!value.is_array()) return value;
      Json out = Json::array();
      for (const auto& item : value) out.push_back(canonicalize(*node.element, item));
      return out;
    }
    case Type::kMap: {
      if (!value.is_object()) return value;
      std::vector<std::string> keys;
      for (const auto& [k, v] : value.items()) keys.push_back(k);
      std::sort(keys.begin(), keys.end());
      Json out = Json::object();
      for (const auto& k : keys) out[k] = canonicalize(*node.element, value.at(k));
      return out;
    }
    default:
      return value;
  }
}

}  // namespace braid::schema
