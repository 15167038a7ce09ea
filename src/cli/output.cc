#include "cli/output.h"

#include <charconv>
#include <map>
#include <set>
#include <vector>

#include "cli/json_access.h"
#include "cli/table.h"
#include "common/yaml_json.h"

namespace braid::cli {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// Reads exactly `n` digits at `pos`.
std::optional<int> digits(std::string_view s, size_t& pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int value = 0;
  auto [ptr, ec] = std::from_chars(s.data() + pos, s.data() + pos + n, value);
  if (ec != std::errc() || ptr != s.data() + pos + n) return std::nullopt;
  pos += n;
  return value;
}

bool expect(std::string_view s, size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

std::string str(const Json& object, const char* key) { return stringField(object, key); }

std::string scalar(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();
}

const Json& member(const Json& object, const char* key) { return fieldOrNull(object, key); }

// "{k=v,k2=v2}" with keys sorted, or "" for an empty or absent map.
std::string braces(const Json& map) {
  if (!map.is_object() || map.empty()) return "";
  std::map<std::string, std::string> sorted;
  for (const auto& [k, v] : map.items()) sorted[k] = scalar(v);
  std::string out;
  for (const auto& [k, v] : sorted) out += (out.empty() ? "" : ",") + k + "=" + v;
  return "{" + out + "}";
}

std::string hostPort(const Json& networking, const char* addressKey, const char* portKey) {
  std::string address = str(networking, addressKey);
  const Json& port = member(networking, portKey);
  if (address.empty()) return "";
  return port.is_number() ? address + ":" + port.dump() : address;
}

std::string meshMtls(const Json& mesh) {
  const Json& mtls = member(mesh, "mtls");
  std::string enabled = str(mtls, "enabledBackend");
  if (enabled.empty()) return "off";
  const Json& backends = member(mtls, "backends");
  if (backends.is_array()) {
    for (const auto& b : backends) {
      if (str(b, "name") == enabled) return str(b, "type") + "/" + enabled;
    }
  }
  return enabled;
}

}  // namespace

std::optional<OutputFormat> parseOutputFormat(std::string_view text) {
  if (text == "table") return OutputFormat::kTable;
  if (text == "yaml") return OutputFormat::kYaml;
  if (text == "json") return OutputFormat::kJson;
  return std::nullopt;
}

std::optional<TimePoint> parseRfc3339(std::string_view s) {
  size_t pos = 0;
  auto year = digits(s, pos, 4);
  if (!year || !expect(s, pos, '-')) return std::nullopt;
  auto month = digits(s, pos, 2);
  if (!month || !expect(s, pos, '-')) return std::nullopt;
  auto day = digits(s, pos, 2);
  if (!day || !(expect(s, pos, 'T') || expect(s, pos, 't') || expect(s, pos, ' '))) {
    return std::nullopt;
  }
  auto hour = digits(s, pos, 2);
  if (!hour || !expect(s, pos, ':')) return std::nullopt;
  auto minute = digits(s, pos, 2);
  if (!minute || !expect(s, pos, ':')) return std::nullopt;
  auto second = digits(s, pos, 2);
  if (!second) return std::nullopt;
  std::chrono::nanoseconds fraction{0};
  if (expect(s, pos, '.')) {
    int64_t scale = 100000000, nanos = 0;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
    fraction = std::chrono::nanoseconds(nanos);
  }
  minutes offset{0};
  if (expect(s, pos, 'Z') || expect(s, pos, 'z')) {
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    auto oh = digits(s, pos, 2);
    if (!oh || !expect(s, pos, ':')) return std::nullopt;
    auto om = digits(s, pos, 2);
    if (!om) return std::nullopt;
    offset = minutes(sign * (*oh * 60 + *om));
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;

  std::chrono::year_month_day ymd{std::chrono::year(*year),
                                  std::chrono::month(static_cast<unsigned>(*month)),
                                  std::chrono::day(static_cast<unsigned>(*day))};
  if (!ymd.ok() || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  auto t = std::chrono::sys_days(ymd) + hours(*hour) + minutes(*minute) + seconds(*second) +
           fraction - offset;
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(t);
}

std::string formatAge(seconds age) {
  if (age < seconds(0)) return "0s";
  constexpr int64_t kMinute = 60, kHour = 60 * kMinute, kDay = 24 * kHour, kYear = 365 * kDay;
  int64_t s = age.count();
  if (s < kMinute) return std::to_string(s) + "s";
  if (s < kHour) return std::to_string(s / kMinute) + "m";
  if (s < kDay) return std::to_string(s / kHour) + "h";
  if (s < kYear) return std::to_string(s / kDay) + "d";
  return std::to_string(s / kYear) + "y";
}

std::string formatAgeSince(const Json& timestamp, TimePoint now) {
  if (!timestamp.is_string()) return "-";
  auto t = parseRfc3339(timestamp.get<std::string>());
  if (!t) return "-";
  return formatAge(std::chrono::duration_cast<seconds>(now - *t));
}

std::string tagsSummary(const Json& resource) {
  std::map<std::string, std::set<std::string>> tags;
  auto collect = [&](const Json& map) {
    if (!map.is_object()) return;
    for (const auto& [k, v] : map.items()) tags[k].insert(scalar(v));
  };
  const Json& inbound = member(member(resource, "networking"), "inbound");
  if (inbound.is_array()) {
    for (const auto& in : inbound) collect(member(in, "tags"));
  }
  collect(member(resource, "tags"));
  std::string out;
  for (const auto& [k, values] : tags) {
    std::string joined;
    for (const auto& v : values) joined += (joined.empty() ? "" : ",") + v;
    out += (out.empty() ? "" : " ") + k + "=" + joined;
  }
  return out;
}

std::string targetRefSummary(const Json& targetRef) {
  std::string kind = str(targetRef, "kind");
  if (kind.empty()) return "Mesh";  // Kuma's default when a policy has no top-level targetRef
  std::string out = kind;
  if (std::string name = str(targetRef, "name"); !name.empty()) out += "/" + name;
  out += braces(member(targetRef, "tags"));
  out += braces(member(targetRef, "labels"));
  if (std::string section = str(targetRef, "sectionName"); !section.empty()) out += ":" + section;
  return out;
}

std::string resourceTable(const ResourceType& type, const Json& items, TimePoint now) {
  bool meshScoped = type.scope == Scope::kMesh;
  std::vector<std::string> headers;
  if (meshScoped) headers.push_back("MESH");
  headers.push_back("NAME");
  // Type-specific columns: what a user scanning the list wants to see at a glance.
  enum class Extra { kNone, kMesh, kDataplane, kExternalService, kIngress, kEgress, kPolicy };
  Extra extra = Extra::kNone;
  if (type.layout == Layout::kPolicy) {
    extra = Extra::kPolicy;
    headers.push_back("TARGETREF");
  } else if (type.name == "Mesh") {
    extra = Extra::kMesh;
    headers.push_back("MTLS");
  } else if (type.name == "Dataplane") {
    extra = Extra::kDataplane;
    headers.push_back("TAGS");
  } else if (type.name == "ExternalService") {
    extra = Extra::kExternalService;
    headers.insert(headers.end(), {"TAGS", "ADDRESS"});
  } else if (type.name == "ZoneIngress") {
    extra = Extra::kIngress;
    headers.insert(headers.end(), {"ADDRESS", "ADVERTISED ADDRESS"});
  } else if (type.name == "ZoneEgress") {
    extra = Extra::kEgress;
    headers.push_back("ADDRESS");
  }
  headers.push_back("AGE");

  std::vector<std::vector<std::string>> rows;
  for (const auto& item : items) {
    std::vector<std::string> row;
    if (meshScoped) row.push_back(str(item, "mesh"));
    row.push_back(str(item, "name"));
    const Json& networking = member(item, "networking");
    switch (extra) {
      case Extra::kPolicy:
        row.push_back(targetRefSummary(member(member(item, "spec"), "targetRef")));
        break;
      case Extra::kMesh:
        row.push_back(meshMtls(item));
        break;
      case Extra::kDataplane:
        row.push_back(tagsSummary(item));
        break;
      case Extra::kExternalService:
        row.push_back(tagsSummary(item));
        row.push_back(str(networking, "address"));
        break;
      case Extra::kIngress:
        row.push_back(hostPort(networking, "address", "port"));
        row.push_back(hostPort(networking, "advertisedAddress", "advertisedPort"));
        break;
      case Extra::kEgress:
        row.push_back(hostPort(networking, "address", "port"));
        break;
      case Extra::kNone:
        break;
    }
    row.push_back(formatAgeSince(member(item, "creationTime"), now));
    rows.push_back(std::move(row));
  }
  return formatTable(headers, rows);
}

std::string resourceYaml(const Json& document) {
  // `version` is the store's, not part of the resource: leaving it out lets the output be applied
  // anywhere (another control plane, a restore) and, unchanged, is still a no-op here.
  Json copy = document;
  if (copy.is_object()) copy.erase("version");
  return toYaml(copy);
}

std::string renderList(OutputFormat format, const Json& list,
                       const std::function<std::string(const Json& items)>& table) {
  switch (format) {
    case OutputFormat::kTable:
      return table(list["items"]);
    case OutputFormat::kYaml:
      return yamlDocuments(list["items"]);
    case OutputFormat::kJson:
      return prettyJson(list);
  }
  return "";
}

std::string yamlDocuments(const Json& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += "---\n";
    out += resourceYaml(item);
  }
  return out;
}

std::string prettyJson(const Json& value) {
  return value.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace braid::cli
