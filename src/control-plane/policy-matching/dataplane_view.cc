#include "control-plane/policy-matching/dataplane_view.h"

#include <algorithm>

namespace braid::policy_matching {
namespace {

const Json* member(const Json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::string stringOf(const Json* value) {
  return value && value->is_string() ? value->get<std::string>() : std::string();
}

}  // namespace

std::string InboundView::label() const { return name.empty() ? std::to_string(port) : name; }

std::string InboundView::service() const { return stringOf(member(tags, kServiceTag)); }

DataplaneView makeDataplaneView(const std::string& name, const Json& content) {
  DataplaneView dp;
  dp.name = name;
  if (const Json* labels = member(content, "labels"); labels && labels->is_object()) {
    dp.labels = *labels;
  }
  const Json* networking = member(content, "networking");
  if (const Json* inbounds = networking ? member(*networking, "inbound") : nullptr;
      inbounds && inbounds->is_array()) {
    for (const Json& in : *inbounds) {
      InboundView view;
      if (const Json* port = member(in, "port"); port && port->is_number_integer()) {
        view.port = port->get<int64_t>();
      }
      view.name = stringOf(member(in, "name"));
      if (const Json* tags = member(in, "tags"); tags && tags->is_object()) view.tags = *tags;
      dp.inbounds.push_back(std::move(view));
    }
  }
  if (const Json* outbounds = networking ? member(*networking, "outbound") : nullptr;
      outbounds && outbounds->is_array()) {
    for (const Json& out : *outbounds) {
      const Json* tags = member(out, "tags");
      std::string service = stringOf(tags ? member(*tags, kServiceTag) : nullptr);
      if (!service.empty() && std::find(dp.outboundServices.begin(), dp.outboundServices.end(),
                                        service) == dp.outboundServices.end()) {
        dp.outboundServices.push_back(std::move(service));
      }
    }
  }
  return dp;
}

}  // namespace braid::policy_matching
