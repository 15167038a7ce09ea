#pragma once

// What a proxy answered when the CP asked it for its admin text over the admin stream
// (`…/dataplanes/{name}/_stats`, `…/_clusters`). Shared by the REST API, which turns it into a
// response, and the dataplane server, which asks; neither depends on the other.

#include <string>

namespace braid::api {

struct ProxyAdminReply {
  enum class Outcome {
    kAnswered,      // `body` is the proxy's text
    kNotConnected,  // no admin stream from that proxy
    kTimedOut,      // the proxy did not answer in time
    kFailed,        // the proxy answered with `error`, or went away before answering
  };
  Outcome outcome = Outcome::kNotConnected;
  std::string body;
  std::string error;
};

}  // namespace braid::api
