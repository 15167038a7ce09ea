#pragma once

// The parts of a Dataplane that policy matching looks at, read once from its stored content.

#include <cstdint>
#include <string>
#include <vector>

#include "common/json.h"

namespace braid::policy_matching {

inline constexpr const char* kServiceTag = "braid.io/service";

struct InboundView {
  int64_t port = 0;
  std::string name;            // `inbound[].name`, empty when unset
  Json tags = Json::object();  // `inbound[].tags`

  // How results name this inbound: its `name`, or its port when it has none.
  std::string label() const;
  std::string service() const;
};

struct DataplaneView {
  std::string name;
  Json labels = Json::object();
  std::vector<InboundView> inbounds;
  // The distinct `braid.io/service` tags of `networking.outbound[]`, in their order.
  std::vector<std::string> outboundServices;
};

// `content` is a Dataplane resource's content (legacy layout: `labels`, `networking`, …).
DataplaneView makeDataplaneView(const std::string& name, const Json& content);

}  // namespace braid::policy_matching
