#pragma once

// The Location of a RequestRedirect answer (MeshHTTPRoute filters), shared by the HTTP/1.1 and
// the HTTP/2 connection managers so both redirect alike.

#include <string>
#include <string_view>

#include "dataplane/config/route_config.h"

namespace braid::dataplane::hcm {

// `host` is the request's Host (or :authority), port included when it had one; `normalized` its
// normalised target ("/p?q"); `match` the route's match (for a prefix replacement).
std::string redirectLocation(const Redirect& redirect, const RouteMatch& match,
                             std::string_view host, const std::string& normalized);

}  // namespace braid::dataplane::hcm
