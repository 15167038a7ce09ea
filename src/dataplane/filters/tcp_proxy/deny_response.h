#pragma once

// What an HTTP caller that MeshTrafficPermission denies gets (CONTRACT §6): 403 with the body
// "RBAC: access denied", in the caller's own HTTP version. The listener's protocol says HTTP;
// the bytes say which version (an HTTP/2 client with prior knowledge starts with the preface).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace braid::dataplane::tcp_proxy {

inline constexpr std::string_view kDenyBody = "RBAC: access denied";

// The answer to send once enough of the request is in `received`: an HTTP/1 request head
// complete, or an HTTP/2 client's first HEADERS frame. nullopt: wait for more. With `final` (the
// caller stopped sending, or waited too long, or sent too much) the answer comes regardless.
// `settingsSent`: http2ServerSettings() already went out, so the answer leaves them out.
std::optional<std::string> httpDenyAnswer(std::string_view received, bool final,
                                          bool settingsSent = false);

// Whether `received` starts with the whole HTTP/2 client preface. Some clients (gRPC's) wait for
// the server's SETTINGS before they send a request, so those go out at once (next function).
bool http2PrefaceComplete(std::string_view received);
// The server's SETTINGS (empty: defaults) and the ack of the client's.
std::string http2ServerSettings();

// `HTTP/1.1 403 Forbidden` with the body, content-type, content-length and connection: close.
std::string http1Forbidden();
// Server SETTINGS, a SETTINGS ack, then on `stream` (0: none seen) HEADERS (:status 403,
// content-type, content-length; HPACK literals) and DATA with END_STREAM, then GOAWAY.
std::string http2Forbidden(uint32_t stream, bool withSettings = true);

}  // namespace braid::dataplane::tcp_proxy
