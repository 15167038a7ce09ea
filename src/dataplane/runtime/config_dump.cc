#include "dataplane/runtime/config_dump.h"

#include <google/protobuf/util/json_util.h>

#include "braid/proxy/v1/config.pb.h"
#include "common/json.h"

namespace braid::dataplane {

void ConfigDump::set(const std::string& version, const braid::proxy::v1::ProxyConfig& config) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string configJson;
  (void)google::protobuf::util::MessageToJsonString(config, &configJson, options);
  std::string out = "{\"version\":" + Json(version).dump() + ",\"config\":" + configJson + "}";
  std::lock_guard lock(mutex_);
  json_ = std::move(out);
}

std::string ConfigDump::json() const {
  std::lock_guard lock(mutex_);
  return json_;
}

}  // namespace braid::dataplane
