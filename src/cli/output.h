#pragma once

// Rendering of API objects for `get` and `inspect`: tables, multi-document YAML, JSON.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/json.h"
#include "control-plane/resources/resource_type.h"

namespace braid::cli {

enum class OutputFormat { kTable, kYaml, kJson };

std::optional<OutputFormat> parseOutputFormat(std::string_view text);

using TimePoint = std::chrono::system_clock::time_point;

// Parses RFC 3339 ("2026-11-21T21:38:41.123Z", "…+02:00"); nullopt when malformed.
std::optional<TimePoint> parseRfc3339(std::string_view text);

// kubectl's short ages: "5s", "3m", "2h", "4d", "2y" (whole units, rounded down). A negative
// duration (clock skew between CLI and CP) shows as "0s".
std::string formatAge(std::chrono::seconds age);
// The age of an RFC 3339 timestamp at `now`; "-" when the timestamp is absent or malformed.
std::string formatAgeSince(const Json& timestamp, TimePoint now);

// Short summaries used in table cells.
std::string tagsSummary(const Json& dataplane);       // "braid.io/service=backend version=v1"
std::string targetRefSummary(const Json& targetRef);  // "MeshService/backend"

// Resource documents (API items) as a table with the type's columns.
std::string resourceTable(const ResourceType& type, const Json& items, TimePoint now);

// Documents as YAML, separated by "---" lines; each one can be given back to `apply`.
// A list (`{"total","items","next"}`) in `format`: the table `table(items)` builds, re-appliable
// YAML documents, or the list object as JSON.
std::string renderList(OutputFormat format, const Json& list,
                       const std::function<std::string(const Json& items)>& table);

// One resource as re-appliable YAML (without the store's `version`).
std::string resourceYaml(const Json& document);
std::string yamlDocuments(const Json& items);

// Pretty JSON with a final newline.
std::string prettyJson(const Json& value);

}  // namespace braid::cli
