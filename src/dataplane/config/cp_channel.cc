#include "dataplane/config/cp_channel.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_credentials_options.h>

namespace braid::dataplane {
namespace {

std::shared_ptr<grpc::ChannelCredentials> credentials(const CpChannelOptions& o) {
  if (!o.insecureSkipVerify) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = o.caPem;
    return grpc::SslCredentials(tls);
  }
  // Still TLS, but the CP's certificate is not checked (--insecure-skip-verify, logged at start).
  grpc::experimental::TlsChannelCredentialsOptions tls;
  tls.set_verify_server_certs(false);
  tls.set_check_call_host(false);
  return grpc::experimental::TlsCredentials(tls);
}

}  // namespace

std::shared_ptr<grpc::Channel> makeCpChannel(const CpChannelOptions& options) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, options.initialBackoffMs);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, options.maxBackoffMs);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 15000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  return grpc::CreateCustomChannel(options.target, credentials(options), args);
}

}  // namespace braid::dataplane
