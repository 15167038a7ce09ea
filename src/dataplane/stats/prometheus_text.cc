#include "dataplane/stats/prometheus_text.h"

namespace braid::dataplane::prometheus {

void appendHeader(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void appendSample(std::string& out, std::string_view name, std::string_view label,
                  std::string_view labelValue, uint64_t sample) {
  out.append(name).append("{").append(label).append("=\"");
  out.append(escapeLabelValue(labelValue)).append("\"} ");
  out.append(std::to_string(sample)).append("\n");
}

void appendLabeledSample(std::string& out, std::string_view name, std::string_view labels,
                         uint64_t sample) {
  out.append(name).append("{").append(labels).append("} ");
  out.append(std::to_string(sample)).append("\n");
}

std::string formatLabel(std::string_view label, std::string_view value) {
  std::string out(label);
  out.append("=\"").append(escapeLabelValue(value)).append("\"");
  return out;
}

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace braid::dataplane::prometheus
