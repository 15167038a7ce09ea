#pragma once

// Answers the HTTP connection manager writes itself (no route, no healthy upstream, timeouts,
// parse errors, redirects): short text bodies with a Content-Length, so the caller's framing is
// never in doubt.

#include <string>
#include <string_view>

#include "common/http/headers.h"

namespace braid::dataplane::hcm {

// A complete HTTP/1.1 response: `status`, `extra` headers, "content-type: text/plain", a
// Content-Length and `body`; with `close`, "connection: close".
std::string localReply(int status, std::string_view body, bool close,
                       const braid::http::Headers& extra = {});

}  // namespace braid::dataplane::hcm
