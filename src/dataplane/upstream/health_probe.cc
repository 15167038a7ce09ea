#include "dataplane/upstream/health_probe.h"

#include <event2/buffer.h>
#include <openssl/ssl.h>

#include <exception>

#include "common/log.h"
#include "dataplane/filters/tcp_proxy/upstream_tls.h"
#include "dataplane/upstream/health_probe_protocol.h"

namespace braid::dataplane::upstream {
namespace {

// One read at most; a probe's answer is small, and the protocols bound what they keep.
constexpr size_t kReadChunk = 16 * 1024;
// Reads per readable event before yielding to the loop.
constexpr int kReadsPerEvent = 16;

}  // namespace

HealthProbe::HealthProbe(event_base* base, HealthProbeTarget target, Done done)
    : base_(base), target_(std::move(target)), done_(std::move(done)) {}

bool HealthProbe::start() {
  network::Connector::Handler& handler = *this;
  connector_ = std::make_unique<network::Connector>(base_, handler);
  // The deadline is the owner's; the connector's own timeout only has to be no shorter.
  return connector_->start(target_.address, target_.config.timeout) == 0;
}

HealthProbe::~HealthProbe() {
  if (socket_ && socket_->ssl() != nullptr && handshaking_ && target_.contexts) {
    target_.contexts->forgetSession(socket_->ssl());
  }
}

void HealthProbe::onConnectResult(network::Connector::Result result, network::UniqueFd socket,
                                  int) {
  connector_.reset();  // allowed: the Connector touches nothing after the call
  if (result != network::Connector::Result::kConnected) {
    return finish(HealthProbeOutcome::kNetworkFailure);
  }
  network::StreamSocket::Handler& handler = *this;
  try {
    socket_ = std::make_unique<network::StreamSocket>(base_, std::move(socket), handler);
  } catch (const std::exception&) {
    return finish(HealthProbeOutcome::kNetworkFailure);
  }
  if (target_.tls.enabled) return startTls();
  startProtocol();
}

void HealthProbe::startTls() {
  if (target_.tlsClient == nullptr || target_.contexts == nullptr) {
    // The checker does not start probes then (health_checker.cc); kept as a guard.
    return finish(HealthProbeOutcome::kNetworkFailure);
  }
  SSL* ssl = target_.contexts->newClientSsl(target_.tlsClient, target_.endpoint, target_.tls.sni);
  if (ssl == nullptr) return finish(HealthProbeOutcome::kNetworkFailure);
  try {
    socket_->startTls(ssl);
  } catch (const std::exception&) {
    return finish(HealthProbeOutcome::kNetworkFailure);
  }
  handshaking_ = true;
  continueHandshake();
}

void HealthProbe::continueHandshake() {
  auto io = socket_->handshake();
  if (io == network::StreamSocket::Io::kWouldBlock) return;
  std::string error = io == network::StreamSocket::Io::kOk
                          ? tcp_proxy::checkUpstreamServer(socket_->ssl(), *target_.contexts,
                                                           target_.tls.expectedSan)
                          : socket_->tlsError();
  if (io != network::StreamSocket::Io::kOk || !error.empty()) {
    log::debug("health check: TLS handshake failed",
               {{"cluster", target_.cluster}, {"endpoint", target_.endpoint}, {"error", error}});
    return finish(HealthProbeOutcome::kNetworkFailure);  // the destructor forgets the session
  }
  handshaking_ = false;
  startProtocol();
}

void HealthProbe::startProtocol() {
  try {
    protocol_ = makeHealthProbeProtocol(target_);
  } catch (const std::exception&) {
    return finish(HealthProbeOutcome::kNetworkFailure);
  }
  socket_->setReadEnabled(true);
  std::string out;
  auto verdict = protocol_->start(out);
  afterProtocol(verdict, out);
}

void HealthProbe::afterProtocol(std::optional<HealthProbeOutcome> verdict, std::string& out) {
  if (verdict) return finish(*verdict);
  if (out.empty()) return;
  if (evbuffer_add(socket_->output(), out.data(), out.size()) != 0) {
    return finish(HealthProbeOutcome::kNetworkFailure);
  }
  size_t written = 0;
  auto io = socket_->flush(written);
  if (io != network::StreamSocket::Io::kOk && io != network::StreamSocket::Io::kWouldBlock) {
    finish(HealthProbeOutcome::kNetworkFailure);
  }
}

void HealthProbe::onReadable(network::StreamSocket&) {
  if (handshaking_) return continueHandshake();
  if (!protocol_) return;
  evbuffer* in = evbuffer_new();
  if (in == nullptr) return finish(HealthProbeOutcome::kNetworkFailure);
  std::optional<HealthProbeOutcome> verdict;
  std::string out;
  for (int i = 0; i < kReadsPerEvent && !verdict; ++i) {
    size_t count = 0;
    auto io = socket_->readInto(in, kReadChunk, count);
    if (io == network::StreamSocket::Io::kWouldBlock) break;
    if (io != network::StreamSocket::Io::kOk) {
      verdict = protocol_->closed();
      break;
    }
    std::string data(evbuffer_get_length(in), '\0');
    evbuffer_remove(in, data.data(), data.size());
    verdict = protocol_->receive(data, out);
  }
  evbuffer_free(in);
  afterProtocol(verdict, out);
}

void HealthProbe::onWritable(network::StreamSocket&) {
  if (handshaking_) return continueHandshake();
  size_t written = 0;
  auto io = socket_->flush(written);
  if (io != network::StreamSocket::Io::kOk && io != network::StreamSocket::Io::kWouldBlock) {
    finish(HealthProbeOutcome::kNetworkFailure);
  }
}

void HealthProbe::finish(HealthProbeOutcome outcome) {
  if (finished_) return;
  finished_ = true;
  Done done = std::move(done_);
  done(outcome);  // may destroy this probe
}

}  // namespace braid::dataplane::upstream
