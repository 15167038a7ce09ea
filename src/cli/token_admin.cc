// Administration of dataplane tokens (REST: /tokens/dataplane/…):
//   braidctl revoke dataplane-token --mesh M (--id ID | --token-file F)
//   braidctl rotate dataplane-token-signing-key --mesh M
//   braidctl retire dataplane-token-signing-key --mesh M --key KEY_ID
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/cli_error.h"
#include "cli/commands.h"

namespace braid::cli {
namespace {

// base64url (no padding) → bytes; throws on a character outside the alphabet.
std::string base64UrlDecode(const std::string& in) {
  std::string out;
  int bits = 0;
  unsigned value = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '-') {
      v = 62;
    } else if (c == '_') {
      v = 63;
    } else {
      throw CliError("the token is not a JWT (bad base64url)");
    }
    value = (value << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((value >> bits) & 0xFF));
    }
  }
  return out;
}

// The token's id (jti), read from its payload without verifying it: the CP only needs the id.
std::string tokenId(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw CliError("cannot read --token-file " + path);
  std::stringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  auto first = token.find('.');
  auto second = token.find('.', first == std::string::npos ? 0 : first + 1);
  if (first == std::string::npos || second == std::string::npos) {
    throw CliError("--token-file " + path + " does not hold a JWT");
  }
  Json payload =
      Json::parse(base64UrlDecode(token.substr(first + 1, second - first - 1)), nullptr, false);
  if (!payload.is_object() || !payload.contains("jti") || !payload.at("jti").is_string()) {
    throw CliError("--token-file " + path + ": the token has no id (jti)");
  }
  return payload.at("jti").get<std::string>();
}

void expectOk(const HttpResponse& response) {
  if (!response.ok()) throw CliError(apiErrorMessage(response));
}

struct AdminOptions {
  std::string mesh, id, tokenFile, key;
};

}  // namespace

void registerTokenAdmin(CLI::App& app, CliContext& ctx) {
  auto options = std::make_shared<AdminOptions>();

  auto* revoke = app.add_subcommand("revoke", "Revoke credentials");
  revoke->require_subcommand(1);
  auto* token = revoke->add_subcommand("dataplane-token", "Revoke a dataplane token");
  token->add_option("--mesh", options->mesh, "the token's mesh")->required();
  auto* id = token->add_option("--id", options->id, "the token's id (its jti claim)");
  auto* file = token->add_option("--token-file", options->tokenFile, "the token itself");
  id->excludes(file);
  token->callback([options, &ctx] {
    if (options->id.empty() && options->tokenFile.empty()) {
      throw CliError("give --id or --token-file");
    }
    std::string tokenIdValue = options->id.empty() ? tokenId(options->tokenFile) : options->id;
    Json body = {{"mesh", options->mesh}, {"id", tokenIdValue}};
    expectOk(ctx.client().post("/tokens/dataplane/revocations", body.dump()));
    *ctx.out << "revoked dataplane token " << tokenIdValue << " in mesh \"" << options->mesh
             << "\"\n";
  });

  auto* rotate = app.add_subcommand("rotate", "Rotate keys");
  rotate->require_subcommand(1);
  auto* rotateKey =
      rotate->add_subcommand("dataplane-token-signing-key",
                             "Add a new signing key: new tokens use it, old ones still work");
  rotateKey->add_option("--mesh", options->mesh, "the mesh")->required();
  rotateKey->callback([options, &ctx] {
    Json body = {{"mesh", options->mesh}};
    HttpResponse response = ctx.client().post("/tokens/dataplane/signing-keys", body.dump());
    expectOk(response);
    Json result = Json::parse(response.body, nullptr, false);
    std::string keyId =
        result.is_object() && result.contains("keyId") && result["keyId"].is_string()
            ? result["keyId"].get<std::string>()
            : "?";
    *ctx.out << "new signing key " << keyId << " in mesh \"" << options->mesh << "\"\n";
  });

  auto* retire = app.add_subcommand("retire", "Retire keys");
  retire->require_subcommand(1);
  auto* retireKey = retire->add_subcommand("dataplane-token-signing-key",
                                           "Remove a signing key: tokens it signed stop working");
  retireKey->add_option("--mesh", options->mesh, "the mesh")->required();
  retireKey->add_option("--key", options->key, "the key's id")->required();
  retireKey->callback([options, &ctx] {
    expectOk(ctx.client().del("/tokens/dataplane/signing-keys/" + pathSegment(options->mesh) + "/" +
                              pathSegment(options->key)));
    *ctx.out << "retired signing key " << options->key << " in mesh \"" << options->mesh << "\"\n";
  });
}

}  // namespace braid::cli
