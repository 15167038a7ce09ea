#include "dataplane/filters/http/local_reply.h"

#include "common/http/http1_codec.h"
#include "common/http/response_writer.h"

namespace braid::dataplane::hcm {

std::string localReply(int status, std::string_view body, bool close,
                       const braid::http::Headers& extra) {
  http1::MessageHead head;
  head.status = status;
  head.reason = http::reasonPhrase(status);
  head.headers = extra;
  head.headers.emplace_back("content-type", "text/plain");
  head.headers.emplace_back("content-length", std::to_string(body.size()));
  if (close) head.headers.emplace_back("connection", "close");
  std::string out;
  http1::appendResponseHead(head, out);
  out.append(body);
  return out;
}

}  // namespace braid::dataplane::hcm
