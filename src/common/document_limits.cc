#include "common/document_limits.h"

#include <stdexcept>
#include <vector>

namespace braid {
namespace {

struct LimitExceeded : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace

std::optional<Json> parseJsonBounded(std::string_view text, std::string& error,
                                     const DocumentLimits& limits) {
  std::vector<size_t> keysAtDepth;  // members seen in each open object
  size_t nodes = 0;
  auto guard = [&](int depth, Json::parse_event_t event, Json&) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        if (static_cast<size_t>(depth) >= limits.maxDepth) {
          throw LimitExceeded("nested deeper than " + std::to_string(limits.maxDepth) + " levels");
        }
        if (event == Json::parse_event_t::object_start) keysAtDepth.push_back(0);
        break;
      case Json::parse_event_t::object_end:
        if (!keysAtDepth.empty()) keysAtDepth.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!keysAtDepth.empty() && ++keysAtDepth.back() > limits.maxKeysPerObject) {
          throw LimitExceeded("an object has more than " + std::to_string(limits.maxKeysPerObject) +
                              " members");
        }
        break;
      case Json::parse_event_t::value:
        if (++nodes > limits.maxNodes) {
          throw LimitExceeded("more than " + std::to_string(limits.maxNodes) + " values");
        }
        break;
      default:
        break;
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), guard);
  } catch (const LimitExceeded& e) {
    error = std::string("the document is too large: ") + e.what();
  } catch (const Json::exception& e) {
    // parse_error for syntax; out_of_range for numbers no double holds (1e400).
    error = e.what();
  }
  return std::nullopt;
}

}  // namespace braid
