#include <memory>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/config.h"
#include "cli/table.h"

namespace braid::cli {
namespace {

struct AddOptions {
  std::string name;
  std::string address;
  std::string authToken;
  bool overwrite = false;
};

// Points the context named after `name` at the control plane `name` and makes it current.
void useControlPlane(CliConfig& config, const std::string& name) {
  bool found = false;
  for (auto& ctx : config.contexts) {
    if (ctx.name == name) {
      ctx.controlPlane = name;
      found = true;
    }
  }
  if (!found) config.contexts.push_back({name, name});
  config.currentContext = name;
}

void runAdd(const AddOptions& options, CliContext& ctx) {
  if (options.name.empty()) throw CliError("--name must not be empty");
  if (options.address.rfind("http://", 0) != 0 && options.address.rfind("https://", 0) != 0) {
    throw CliError("--address: \"" + options.address +
                   "\" must be an http:// or https:// URL, e.g. http://127.0.0.1:5681");
  }
  std::string path = ctx.resolvedConfigPath();
  CliConfig config = loadConfig(path);
  ControlPlaneEntry entry{options.name, options.address, options.authToken};
  bool replaced = false;
  for (auto& cp : config.controlPlanes) {
    if (cp.name != options.name) continue;
    if (!options.overwrite) {
      throw CliError("control plane \"" + options.name +
                     "\" already exists: use --overwrite to replace it");
    }
    cp = entry;
    replaced = true;
  }
  if (!replaced) config.controlPlanes.push_back(entry);
  useControlPlane(config, options.name);
  saveConfig(path, config);
  *ctx.out << (replaced ? "updated" : "added") << " control plane \"" << options.name << "\"\n"
           << "switched context to \"" << options.name << "\"\n";
}

void runList(CliContext& ctx) {
  CliConfig config = loadConfig(ctx.resolvedConfigPath());
  const ControlPlaneEntry* current = config.current();
  std::vector<std::vector<std::string>> rows;
  for (const auto& cp : config.controlPlanes) {
    rows.push_back({current == &cp ? "*" : "", cp.name, cp.url});
  }
  // kumactl's layout: a blank ACTIVE cell, not "-", for the others.
  *ctx.out << formatTable({"ACTIVE", "NAME", "ADDRESS"}, rows, "");
}

void runSwitch(const std::string& name, CliContext& ctx) {
  std::string path = ctx.resolvedConfigPath();
  CliConfig config = loadConfig(path);
  if (!config.findControlPlane(name)) {
    throw CliError("there is no control plane \"" + name + "\" in " + path);
  }
  useControlPlane(config, name);
  saveConfig(path, config);
  *ctx.out << "switched context to \"" << name << "\"\n";
}

void runRemove(const std::string& name, CliContext& ctx) {
  std::string path = ctx.resolvedConfigPath();
  CliConfig config = loadConfig(path);
  if (!config.findControlPlane(name)) {
    throw CliError("there is no control plane \"" + name + "\" in " + path);
  }
  std::erase_if(config.controlPlanes, [&](const auto& cp) { return cp.name == name; });
  bool removedCurrent = false;
  std::erase_if(config.contexts, [&](const auto& c) {
    if (c.controlPlane != name) return false;
    removedCurrent = removedCurrent || c.name == config.currentContext;
    return true;
  });
  if (removedCurrent) config.currentContext.clear();
  saveConfig(path, config);
  *ctx.out << "removed control plane \"" << name << "\"\n";
}

}  // namespace

void registerConfig(CLI::App& app, CliContext& ctx) {
  auto* config = app.add_subcommand("config", "Manage ~/.braidctl/config");
  config->require_subcommand(1);
  auto* planes = config->add_subcommand("control-planes", "The control planes braidctl knows");
  planes->require_subcommand(1);

  auto add = std::make_shared<AddOptions>();
  auto* addCmd = planes->add_subcommand("add", "Add a control plane and switch to it");
  addCmd->add_option("--name", add->name, "a name for it")->required();
  addCmd->add_option("--address", add->address, "its API URL, e.g. http://127.0.0.1:5681")
      ->required();
  addCmd->add_option("--auth-token", add->authToken, "a token sent as Authorization: Bearer");
  addCmd->add_flag("--overwrite", add->overwrite, "replace a control plane of the same name");
  addCmd->callback([add, &ctx] { runAdd(*add, ctx); });

  planes->add_subcommand("list", "List the control planes; * marks the current one")
      ->callback([&ctx] { runList(ctx); });

  auto switchName = std::make_shared<std::string>();
  auto* switchCmd = planes->add_subcommand("switch", "Make a control plane the current one");
  switchCmd->add_option("--name", *switchName, "its name")->required();
  switchCmd->callback([switchName, &ctx] { runSwitch(*switchName, ctx); });

  auto removeName = std::make_shared<std::string>();
  auto* removeCmd = planes->add_subcommand("remove", "Forget a control plane");
  removeCmd->add_option("--name", *removeName, "its name")->required();
  removeCmd->callback([removeName, &ctx] { runRemove(*removeName, ctx); });
}

}  // namespace braid::cli
