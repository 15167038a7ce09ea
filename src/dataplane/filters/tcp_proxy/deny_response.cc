#include "dataplane/filters/tcp_proxy/deny_response.h"

namespace braid::dataplane::tcp_proxy {
namespace {

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr size_t kFrameHeader = 9;
constexpr uint8_t kFrameData = 0x0;
constexpr uint8_t kFrameHeaders = 0x1;
constexpr uint8_t kFrameSettings = 0x4;
constexpr uint8_t kFrameGoaway = 0x7;
constexpr uint8_t kFlagEndStream = 0x1;
constexpr uint8_t kFlagAck = 0x1;
constexpr uint8_t kFlagEndHeaders = 0x4;

void appendFrame(std::string& out, uint8_t type, uint8_t flags, uint32_t stream,
                 std::string_view payload) {
  size_t length = payload.size();
  out.push_back(static_cast<char>((length >> 16) & 0xff));
  out.push_back(static_cast<char>((length >> 8) & 0xff));
  out.push_back(static_cast<char>(length & 0xff));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(flags));
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((stream >> shift) & 0xff));
  }
  out.append(payload);
}

// HPACK "literal header field without indexing, indexed name" (RFC 7541 §6.2.2) for a static
// table name, with a short plain (not Huffman) value.
void appendLiteral(std::string& out, unsigned nameIndex, std::string_view value) {
  if (nameIndex < 15) {
    out.push_back(static_cast<char>(nameIndex));
  } else {
    out.push_back(0x0f);
    out.push_back(static_cast<char>(nameIndex - 15));  // < 128 for the static table
  }
  out.push_back(static_cast<char>(value.size()));  // < 127: a one-byte length
  out.append(value);
}

// The stream of the first HEADERS frame after the preface; 0 while none is complete.
uint32_t firstHeadersStream(std::string_view frames) {
  while (frames.size() >= kFrameHeader) {
    auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(frames[i])); };
    uint32_t length = (byte(0) << 16) | (byte(1) << 8) | byte(2);
    uint32_t stream = ((byte(5) << 24) | (byte(6) << 16) | (byte(7) << 8) | byte(8)) & 0x7fffffff;
    if (byte(3) == kFrameHeaders && stream != 0) return stream;
    if (frames.size() < kFrameHeader + length) return 0;
    frames.remove_prefix(kFrameHeader + length);
  }
  return 0;
}

}  // namespace

std::string http1Forbidden() {
  std::string out = "HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: ";
  out += std::to_string(kDenyBody.size());
  out += "\r\nconnection: close\r\n\r\n";
  out += kDenyBody;
  return out;
}

std::string http2ServerSettings() {
  std::string out;
  appendFrame(out, kFrameSettings, 0, 0, {});
  appendFrame(out, kFrameSettings, kFlagAck, 0, {});
  return out;
}

bool http2PrefaceComplete(std::string_view received) {
  return received.size() >= kPreface.size() && received.substr(0, kPreface.size()) == kPreface;
}

std::string http2Forbidden(uint32_t stream, bool withSettings) {
  std::string out = withSettings ? http2ServerSettings() : std::string();
  if (stream != 0) {
    std::string block;
    appendLiteral(block, 8, "403");                              // :status
    appendLiteral(block, 31, "text/plain");                      // content-type
    appendLiteral(block, 28, std::to_string(kDenyBody.size()));  // content-length
    appendFrame(out, kFrameHeaders, kFlagEndHeaders, stream, block);
    appendFrame(out, kFrameData, kFlagEndStream, stream, kDenyBody);
  }
  std::string goaway(8, '\0');  // last stream id, then NO_ERROR
  for (int i = 0; i < 4; ++i)
    goaway[static_cast<size_t>(i)] = static_cast<char>(stream >> (24 - 8 * i));
  appendFrame(out, kFrameGoaway, 0, 0, goaway);
  return out;
}

std::optional<std::string> httpDenyAnswer(std::string_view received, bool final,
                                          bool settingsSent) {
  size_t compared = std::min(received.size(), kPreface.size());
  bool http2 = !received.empty() && received.substr(0, compared) == kPreface.substr(0, compared);
  if (http2) {
    uint32_t stream = received.size() > kPreface.size()
                          ? firstHeadersStream(received.substr(kPreface.size()))
                          : 0;
    if (stream != 0 || final) return http2Forbidden(stream, !settingsSent);
    return std::nullopt;
  }
  if (final || received.find("\r\n\r\n") != std::string_view::npos) return http1Forbidden();
  return std::nullopt;
}

}  // namespace braid::dataplane::tcp_proxy
