#include "control-plane/api/problem.h"

#include "common/json.h"

namespace braid::api {

http::Response problem(int status, const std::string& title, const std::string& details) {
  Json body = {{"title", title}, {"details", details}};
  // Details may quote the request (a name from the path), which need not be valid UTF-8.
  return http::Response::json(status, body.dump(-1, ' ', false, Json::error_handler_t::replace));
}

http::Response invalidResource(const std::string& details, const FieldErrors& errors) {
  Json params = Json::array();
  for (const auto& e : errors.all()) params.push_back({{"field", e.field}, {"reason", e.reason}});
  Json body = {{"title", "Invalid resource"}, {"details", details}, {"invalid_parameters", params}};
  return http::Response::json(400, body.dump(-1, ' ', false, Json::error_handler_t::replace));
}

}  // namespace braid::api
