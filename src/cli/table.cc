#include "cli/table.h"

#include <algorithm>
#include <cctype>

namespace braid::cli {
namespace {

constexpr size_t kGap = 3;

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

size_t displayWidth(const std::string& text) {
  size_t width = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++width;  // count lead bytes only
  }
  return width;
}

std::string formatTable(const std::vector<std::string>& headers,
                        const std::vector<std::vector<std::string>>& rows,
                        const std::string& empty) {
  std::vector<std::vector<std::string>> lines;
  lines.reserve(rows.size() + 1);
  std::vector<std::string> head;
  for (const auto& h : headers) head.push_back(upper(h));
  lines.push_back(std::move(head));
  for (const auto& row : rows) {
    std::vector<std::string> line(headers.size(), empty);
    for (size_t i = 0; i < headers.size() && i < row.size(); ++i) {
      if (!row[i].empty()) line[i] = row[i];
    }
    lines.push_back(std::move(line));
  }

  std::vector<size_t> widths(headers.size(), 0);
  for (const auto& line : lines) {
    for (size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], displayWidth(line[i]));
  }

  std::string out;
  for (const auto& line : lines) {
    std::string text;
    for (size_t i = 0; i < line.size(); ++i) {
      text += line[i];
      if (i + 1 < line.size()) text.append(widths[i] - displayWidth(line[i]) + kGap, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + '\n';
  }
  return out;
}

}  // namespace braid::cli
