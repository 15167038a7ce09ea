#include "common/http/url.h"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace braid::http {

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool percentDecode(std::string_view in, std::string& out, bool plusIsSpace) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hexValue(in[i + 1]);
      const int lo = hexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plusIsSpace) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> parseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view piece = query.substr(start, end - start);
    if (!piece.empty()) {
      const size_t eq = piece.find('=');
      std::string name;
      std::string value;
      const bool ok =
          percentDecode(piece.substr(0, eq), name, true) &&
          (eq == std::string_view::npos || percentDecode(piece.substr(eq + 1), value, true));
      if (ok) out.emplace_back(std::move(name), std::move(value));
    }
    start = end + 1;
  }
  return out;
}

bool isLoopbackAddress(std::string_view address) {
  const std::string text(address);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

bool splitHostPort(std::string_view hostPort, std::string& host, uint16_t& port) {
  std::string_view portText;
  if (!hostPort.empty() && hostPort.front() == '[') {
    const size_t close = hostPort.find(']');
    if (close == std::string_view::npos || close + 1 >= hostPort.size() ||
        hostPort[close + 1] != ':') {
      return false;
    }
    host = std::string(hostPort.substr(1, close - 1));
    if (host.empty()) return false;
    portText = hostPort.substr(close + 2);
  } else {
    const size_t colon = hostPort.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = std::string(hostPort.substr(0, colon));
    // An unbracketed IPv6 address is ambiguous ("::1:80"): refuse it.
    if (host.find(':') != std::string::npos) return false;
    portText = hostPort.substr(colon + 1);
  }
  if (portText.empty() || portText.size() > 5) return false;
  uint32_t value = 0;
  for (const char c : portText) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 65535) return false;
  port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace braid::http
