#include "cli/inspect.h"

#include <memory>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/json_access.h"
#include "cli/output.h"
#include "cli/resource_ref.h"
#include "cli/table.h"

namespace braid::cli {
namespace {

struct InspectDataplanesOptions {
  std::string mesh = kDefaultMesh;
  std::string output = "table";
};

struct InspectDataplaneOptions {
  std::string name;
  std::string mesh = kDefaultMesh;
  std::string type = "config";
};

std::string stringOrDash(const Json& object, const char* key) {
  std::string value = stringField(object, key);
  return value.empty() ? "-" : value;
}

std::string dataplanesPath(const std::string& mesh) {
  if (mesh.empty()) throw CliError("--mesh must not be empty");
  return "/meshes/" + pathSegment(mesh) + "/dataplanes";
}

void runInspectDataplanes(const InspectDataplanesOptions& options, CliContext& ctx) {
  OutputFormat format = *parseOutputFormat(options.output);
  Json list = fetchAllPages(ctx.client(), dataplanesPath(options.mesh) + "/_overview");
  *ctx.out << renderList(format, list, dataplaneOverviewTable);
}

void runInspectDataplane(const InspectDataplaneOptions& options, CliContext& ctx) {
  std::string path =
      dataplanesPath(options.mesh) + "/" + pathSegment(options.name) + "/_" + options.type;
  HttpResponse response = ctx.client().get(path);
  if (!response.ok()) throw CliError(apiErrorMessage(response));
  // stats and clusters are the proxy's own admin text, printed as it sent it.
  bool text = options.type == "stats" || options.type == "clusters";
  Json body = text ? Json(nullptr) : Json::parse(response.body, nullptr, false);
  if (text || body.is_discarded()) {
    *ctx.out << response.body;
    if (!response.body.empty() && response.body.back() != '\n') *ctx.out << "\n";
  } else {
    *ctx.out << prettyJson(body);
  }
}

// "<version>: <error>" of the last configuration the proxy refused (NACKed), else "-".
std::string lastRejection(const Json& insight) {
  const Json& rejection = fieldOrNull(insight, "lastRejection");
  if (!rejection.is_object()) return "-";
  return stringOrDash(rejection, "version") + ": " + stringOrDash(rejection, "error");
}

}  // namespace

std::string dataplaneOverviewTable(const Json& items) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : items) {
    if (!item.is_object()) continue;
    const Json& insight = fieldOrNull(item, "dataplaneInsight");
    const Json* online = field(insight, "online");
    std::string tags = tagsSummary(fieldOrNull(item, "dataplane"));
    rows.push_back({stringOrDash(item, "mesh"), stringOrDash(item, "name"),
                    tags.empty() ? "-" : tags, online && *online == true ? "Online" : "Offline",
                    stringOrDash(insight, "configVersionAcked"),
                    stringOrDash(insight, "certificateExpiry"), lastRejection(insight)});
  }
  return formatTable(
      {"MESH", "NAME", "TAGS", "STATUS", "CONFIG ACKED", "CERT EXPIRY", "LAST REJECTION"}, rows);
}

void registerInspect(CLI::App& app, CliContext& ctx) {
  auto* inspect = app.add_subcommand("inspect", "Show the control plane's view of proxies");
  inspect->require_subcommand(1);

  auto list = std::make_shared<InspectDataplanesOptions>();
  auto* dataplanes =
      inspect->add_subcommand("dataplanes", "Every dataplane of a mesh with its status");
  dataplanes->add_option("-m,--mesh", list->mesh, "the mesh")->capture_default_str();
  dataplanes->add_option("-o,--output", list->output, "table, yaml or json")
      ->check(CLI::IsMember({"table", "yaml", "json"}))
      ->capture_default_str();
  dataplanes->callback([list, &ctx] { runInspectDataplanes(*list, ctx); });

  auto one = std::make_shared<InspectDataplaneOptions>();
  auto* dataplane = inspect->add_subcommand(
      "dataplane", "What the control plane generated for one dataplane, or its proxy's state");
  dataplane->add_option("name", one->name, "the dataplane's name")->required();
  dataplane->add_option("-m,--mesh", one->mesh, "the mesh")->capture_default_str();
  dataplane
      ->add_option("--type", one->type,
                   "config (generated proxy configuration), policies (matched policies and "
                   "their merged result), stats or clusters")
      ->check(CLI::IsMember({"config", "policies", "stats", "clusters"}))
      ->capture_default_str();
  dataplane->callback([one, &ctx] { runInspectDataplane(*one, ctx); });
}

}  // namespace braid::cli
