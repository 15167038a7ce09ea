#pragma once

#include <string>
#include <vector>

namespace braid::cli {

// A kubectl-style table: headers upper-cased, every column as wide as its widest cell, columns
// separated by three spaces, no trailing spaces. Empty cells print as `empty` ("-" by default, so
// that every row has the same number of columns, which keeps the output easy to read and to awk).
std::string formatTable(const std::vector<std::string>& headers,
                        const std::vector<std::vector<std::string>>& rows,
                        const std::string& empty = "-");

// The display width of a UTF-8 string (code points, not bytes).
size_t displayWidth(const std::string& text);

}  // namespace braid::cli
