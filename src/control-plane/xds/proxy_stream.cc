#include "control-plane/xds/proxy_stream.h"

namespace braid::xds {

void StreamHandle::send(dpb::DiscoveryResponse response) {
  std::lock_guard lock(mutex_);
  if (stream_) stream_->sendLocked(std::move(response));
}

void StreamHandle::close(grpc::Status status) {
  std::lock_guard lock(mutex_);
  if (stream_) stream_->finishLocked(std::move(status));
}

ProxyStream::ProxyStream(uint64_t id, std::string token, const StreamCallbacks& callbacks)
    : callbacks_(callbacks), handle_(std::make_shared<StreamHandle>(id, std::move(token))) {
  handle_->stream_ = this;
  StartRead(&request_);
}

void ProxyStream::OnReadDone(bool ok) {
  if (!ok) {  // the proxy closed its side, or the call was cancelled
    std::lock_guard lock(handle_->mutex_);
    finishLocked(grpc::Status::OK);
    return;
  }
  callbacks_.onRequest(handle_, std::move(request_));
  request_.Clear();
  std::lock_guard lock(handle_->mutex_);
  if (!finishRequested_) StartRead(&request_);
}

void ProxyStream::sendLocked(dpb::DiscoveryResponse response) {
  if (finishRequested_) return;
  if (writeInFlight_) {
    pending_ = std::move(response);
    return;
  }
  writing_ = std::move(response);
  writeInFlight_ = true;
  StartWrite(&writing_);
}

// gRPC wants Finish after the last write completes, so a finish requested mid-write waits.
void ProxyStream::finishLocked(grpc::Status status) {
  if (finishRequested_) return;
  finishRequested_ = true;
  finishStatus_ = std::move(status);
  pending_.reset();
  if (!writeInFlight_ && !finished_) {
    finished_ = true;
    Finish(finishStatus_);
  }
}

void ProxyStream::OnWriteDone(bool ok) {
  std::lock_guard lock(handle_->mutex_);
  writeInFlight_ = false;
  if (!ok) {
    finishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
  } else if (pending_ && !finishRequested_) {
    writing_ = std::move(*pending_);
    pending_.reset();
    writeInFlight_ = true;
    StartWrite(&writing_);
    return;
  }
  if (finishRequested_ && !finished_) {
    finished_ = true;
    Finish(finishStatus_);
  }
}

void ProxyStream::OnDone() {
  {
    std::lock_guard lock(handle_->mutex_);
    handle_->stream_ = nullptr;
  }
  callbacks_.onClosed(handle_);
  delete this;
}

}  // namespace braid::xds
