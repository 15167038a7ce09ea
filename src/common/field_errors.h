#pragma once

#include <string>
#include <vector>

namespace braid {

// One problem with one field of a resource, e.g. {"spec.to[0].targetRef.kind", "must be one of …"}.
struct FieldError {
  std::string field;
  std::string reason;
  bool operator==(const FieldError&) const = default;
};

// Collects every validation problem instead of stopping at the first, so that users see all
// of them at once (as Kuma does).
class FieldErrors {
 public:
  void add(std::string field, std::string reason) {
    errors_.push_back({std::move(field), std::move(reason)});
  }
  void append(const FieldErrors& other) {
    errors_.insert(errors_.end(), other.errors_.begin(), other.errors_.end());
  }
  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }
  const std::vector<FieldError>& all() const { return errors_; }

  // "field: reason" lines joined by newlines, in the order found.
  std::string toString() const {
    std::string out;
    for (const auto& e : errors_) {
      if (!out.empty()) out += '\n';
      out += e.field.empty() ? e.reason : e.field + ": " + e.reason;
    }
    return out;
  }

 private:
  std::vector<FieldError> errors_;
};

// Builds field paths in the contract's notation: "spec.to[0].default.backendRefs[1].weight".
inline std::string joinPath(const std::string& parent, const std::string& field) {
  return parent.empty() ? field : parent + "." + field;
}
inline std::string indexPath(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

}  // namespace braid
