#include "cli/apply.h"

#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/json_access.h"
#include "cli/resource_ref.h"
#include "common/yaml_json.h"

namespace braid::cli {
namespace {

struct ApplyOptions {
  std::string file;
  bool dryRun = false;
};

std::string readInput(const std::string& file, std::istream& in) {
  std::stringstream text;
  if (file == "-") {
    text << in.rdbuf();
    return text.str();
  }
  std::ifstream f(file, std::ios::binary);
  if (!f) throw CliError("cannot read " + file + ": " + std::strerror(errno));
  text << f.rdbuf();
  return text.str();
}

std::string describe(const Resource& r) { return describeResource(*r.type, r.mesh, r.name); }

// Permissions are enforced by mutual TLS (CONTRACT §6): without it the policy is stored but
// nothing checks callers, which a user applying one would not expect.
void warnIfPermissionUnenforced(const Resource& r, ApiClient& client, std::ostream& err) {
  if (r.type->name != "MeshTrafficPermission") return;
  HttpResponse mesh = client.get("/meshes/" + r.mesh);
  if (!mesh.ok()) return;
  Json body = Json::parse(mesh.body, nullptr, false);
  const Json* mtls = field(body, "mtls");
  const Json* enabled = mtls ? field(*mtls, "enabledBackend") : nullptr;
  if (enabled && enabled->is_string() && !enabled->get<std::string>().empty()) return;
  err << "Warning: mesh " << r.mesh << " has no mTLS: MeshTrafficPermission " << r.name
      << " is not enforced until mtls.enabledBackend is set" << std::endl;
}

// Kinds the CP stores and validates but no proxy applies yet (docs/policies.md): a user applying
// one would otherwise believe it in force.
void warnIfNotApplied(const Resource& r, std::ostream& err) {
  static const std::set<std::string> kStoredOnly = {"MeshRateLimit", "MeshFaultInjection",
                                                    "MeshAccessLog", "MeshMetric", "MeshTrace"};
  if (kStoredOnly.count(r.type->name) == 0) return;
  err << "Warning: " << r.type->name << " " << r.name
      << " is stored but not applied to traffic by this version of braid (docs/policies.md)"
      << std::endl;
}

void runApply(const ApplyOptions& options, CliContext& ctx) {
  std::string source = options.file == "-" ? "standard input" : options.file;
  auto yaml = parseYaml(readInput(options.file, *ctx.in));
  if (!yaml.error.empty()) throw CliError(source + ": " + yaml.error);
  if (yaml.documents.empty()) throw CliError("no resources in " + source);

  std::vector<ParsedResource> parsed;
  if (std::string problems = validateDocuments(yaml.documents, parsed); !problems.empty()) {
    throw CliError(problems);
  }
  if (options.dryRun) {
    for (const auto& p : parsed) *ctx.out << "valid " << describe(*p.resource) << "\n";
    return;
  }

  ApiClient& client = ctx.client();
  for (size_t i = 0; i < parsed.size(); ++i) {
    const Resource& r = *parsed[i].resource;
    HttpResponse response =
        client.put(resourcePath(*r.type, r.mesh, r.name),
                   yaml.documents[i].dump(-1, ' ', false, Json::error_handler_t::replace));
    if (!response.ok()) throw CliError(apiErrorMessage(response));
    std::string verb = "updated";
    if (response.status == 201) {
      verb = "created";
    } else {
      Json body = Json::parse(response.body, nullptr, false);
      if (const Json* changed = field(body, "changed"); changed && *changed == false) {
        verb = "unchanged";
      }
    }
    // Flushed per document: if a later one fails, the user sees what was already written.
    *ctx.out << verb << " " << describe(r) << std::endl;
    warnIfPermissionUnenforced(r, client, *ctx.err);
    warnIfNotApplied(r, *ctx.err);
  }
}

}  // namespace

std::string validateDocuments(const std::vector<Json>& documents,
                              std::vector<ParsedResource>& parsed) {
  std::string out;
  parsed.clear();
  for (size_t i = 0; i < documents.size(); ++i) {
    parsed.push_back(parseResource(documents[i]));
    const auto& errors = parsed.back().errors;
    if (errors.empty()) continue;
    std::string what = describeDocument(documents[i]);
    if (!out.empty()) out += "\n";
    out += "document " + std::to_string(i + 1) + (what.empty() ? "" : " (" + what + ")") + ":";
    for (const auto& e : errors.all()) {
      out += "\n  " + (e.field.empty() ? e.reason : e.field + ": " + e.reason);
    }
  }
  return out;
}

void registerApply(CLI::App& app, CliContext& ctx) {
  auto options = std::make_shared<ApplyOptions>();
  auto* cmd = app.add_subcommand("apply", "Create or update the resources of a YAML file");
  cmd->add_option("-f,--file", options->file,
                  "a YAML file of one or more documents, or - for stdin")
      ->required();
  cmd->add_flag("--dry-run", options->dryRun, "validate only; write nothing");
  cmd->callback([options, &ctx] { runApply(*options, ctx); });
}

}  // namespace braid::cli
