#include "http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace braid::bench {
namespace {

// A head larger than this is not something nginx or the proxies send: a broken stream.
constexpr size_t kMaxHead = 16 * 1024;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<Url> parseUrl(std::string_view text) {
  constexpr std::string_view kScheme = "http://";
  if (text.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  text.remove_prefix(kScheme.size());
  Url url;
  auto slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  url.path = slash == std::string_view::npos ? "/" : std::string(text.substr(slash));
  auto colon = authority.rfind(':');
  url.host = std::string(authority.substr(0, colon));
  if (colon != std::string_view::npos) {
    std::string_view port = authority.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return std::nullopt;
    }
    url.port = static_cast<uint16_t>(value);
  }
  in_addr address{};
  if (inet_pton(AF_INET, url.host.c_str(), &address) != 1) return std::nullopt;
  return url;
}

sockaddr_in socketAddress(const Url& url) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(url.port);
  inet_pton(AF_INET, url.host.c_str(), &address.sin_addr);
  return address;
}

std::string getRequest(const Url& url) {
  return "GET " + url.path + " HTTP/1.1\r\nHost: " + url.host + ":" + std::to_string(url.port) +
         "\r\n\r\n";
}

std::optional<ResponseHead> parseResponseHead(std::string_view head) {
  // "HTTP/1.1 200 OK\r\n"
  if (head.size() < 12 || head.substr(0, 7) != "HTTP/1." || head[8] != ' ') return std::nullopt;
  ResponseHead parsed;
  auto [end, ec] = std::from_chars(head.data() + 9, head.data() + 12, parsed.status);
  if (ec != std::errc() || end != head.data() + 12 || parsed.status < 100) return std::nullopt;
  if (head[7] == '0') parsed.close = true;  // HTTP/1.0 closes unless told otherwise
  bool chunked = false;
  size_t line = head.find("\r\n");
  while (line != std::string_view::npos && line + 2 < head.size()) {
    size_t next = head.find("\r\n", line + 2);
    if (next == std::string_view::npos) break;
    std::string_view field = head.substr(line + 2, next - line - 2);
    line = next;
    auto colon = field.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name = lower(trim(field.substr(0, colon)));
    std::string_view value = trim(field.substr(colon + 1));
    if (name == "content-length") {
      uint64_t length = 0;
      auto [lengthEnd, lengthEc] =
          std::from_chars(value.data(), value.data() + value.size(), length);
      if (lengthEc != std::errc() || lengthEnd != value.data() + value.size()) return std::nullopt;
      parsed.contentLength = length;
    } else if (name == "transfer-encoding") {
      chunked = true;
    } else if (name == "connection") {
      std::string token = lower(value);
      if (token == "close") parsed.close = true;
      if (token == "keep-alive") parsed.close = false;
    }
  }
  bool noBody = parsed.status < 200 || parsed.status == 204 || parsed.status == 304;
  if (chunked || (!noBody && !parsed.contentLength)) return std::nullopt;
  if (noBody) parsed.contentLength = 0;
  return parsed;
}

ResponseReader::Step ResponseReader::feed(std::string_view data, size_t& used) {
  used = 0;
  if (!inBody_) {
    size_t before = headBuffer_.size();
    headBuffer_.append(data.substr(0, std::min(data.size(), kMaxHead)));
    size_t from = before < 3 ? 0 : before - 3;
    size_t end = headBuffer_.find("\r\n\r\n", from);
    if (end == std::string::npos) {
      used = data.size();
      if (headBuffer_.size() >= kMaxHead) {
        error_ = "response head larger than 16 KiB";
        return Step::kError;
      }
      return Step::kNeedMore;
    }
    size_t headLength = end + 4;
    auto head = parseResponseHead(std::string_view(headBuffer_).substr(0, headLength));
    if (!head) {
      error_ = "unsupported response head: " + headBuffer_.substr(0, headBuffer_.find("\r\n"));
      return Step::kError;
    }
    if (head->status < 200) {
      error_ = "interim (1xx) responses are not expected";
      return Step::kError;
    }
    head_ = *head;
    used = headLength - before;
    headBuffer_.clear();
    inBody_ = true;
    bodyLeft_ = *head_.contentLength;
    bodyBytes_ = 0;
  }
  size_t take = static_cast<size_t>(std::min<uint64_t>(bodyLeft_, data.size() - used));
  used += take;
  bodyLeft_ -= take;
  bodyBytes_ += take;
  if (bodyLeft_ > 0) return Step::kNeedMore;
  inBody_ = false;
  return Step::kDone;
}

void ResponseReader::reset() {
  headBuffer_.clear();
  inBody_ = false;
  bodyLeft_ = 0;
  bodyBytes_ = 0;
  error_.clear();
}

}  // namespace braid::bench
