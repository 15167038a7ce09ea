#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// Pieces of the Prometheus text exposition format 0.0.4.
namespace braid::dataplane::prometheus {

// "# HELP <name> <help>\n# TYPE <name> <type>\n"
void appendHeader(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help);
// "<name>{<label>="<value, escaped>"} <sample>\n"
void appendSample(std::string& out, std::string_view name, std::string_view label,
                  std::string_view labelValue, uint64_t sample);
// "<name>{<labels>} <sample>\n"; `labels` as formatLabel() pieces joined by commas.
void appendLabeledSample(std::string& out, std::string_view name, std::string_view labels,
                         uint64_t sample);
// <label>="<value, escaped>"
std::string formatLabel(std::string_view label, std::string_view value);
// Escapes a label value: backslash, double quote and newline.
std::string escapeLabelValue(std::string_view value);

}  // namespace braid::dataplane::prometheus
