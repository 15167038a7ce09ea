// RequestMirror in the HTTP connection manager: which mirrors a request is copied to (each
// mirror's percentage drawn per request), and the copy handed to the worker's MirrorSender once
// the request is complete, so a request the caller never finished is never mirrored.

#include "dataplane/filters/http/header_rules.h"
#include "dataplane/filters/http/http_connection.h"

namespace braid::dataplane::hcm {
namespace {
constexpr uint32_t kMillion = 1000000;
// Whatever the route's timeout, a mirror gives up after this long when the route has none.
constexpr std::chrono::milliseconds kMirrorTimeout{15000};
}  // namespace

void HttpConnection::prepareMirrors(const http1::MessageHead& upstreamRequest) {
  for (const Mirror& mirror : route_->action.mirrors) {
    if (mirror.perMillion < kMillion && worker_.random() % kMillion >= mirror.perMillion) continue;
    mirrorClusters_.push_back(mirror.cluster);
  }
  if (mirrorClusters_.empty()) return;
  http1::MessageHead copy = upstreamRequest;
  setHeader(copy.headers, "host", shadowHost(headerValue(copy.headers, "host")));
  http1::appendRequestHead(copy, mirrorCopy_);
}

void HttpConnection::sendMirrors() {
  if (mirrorClusters_.empty()) return;
  const auto timeout = route_->action.timeout.count() > 0 ? route_->action.timeout : kMirrorTimeout;
  for (size_t i = 0; i < mirrorClusters_.size(); ++i) {
    // The last mirror takes the copy; the others get their own.
    std::string bytes = i + 1 == mirrorClusters_.size() ? std::move(mirrorCopy_) : mirrorCopy_;
    worker_.mirrors.send(base_, config_, mirrorClusters_[i], std::move(bytes), request_.method,
                         timeout, worker_.pool);
  }
  mirrorClusters_.clear();
  std::string().swap(mirrorCopy_);
}

}  // namespace braid::dataplane::hcm
