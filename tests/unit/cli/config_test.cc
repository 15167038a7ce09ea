#include "cli/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli/cli_error.h"
#include "support/golden.h"

namespace braid::cli {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "braidctl-config-XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path path() const { return path_; }

 private:
  fs::path path_;
};

CliConfig sample() {
  CliConfig config;
  config.controlPlanes = {{"local", "http://127.0.0.1:5681", ""},
                          {"prod", "https://cp.example:5682", "secret-token"}};
  config.contexts = {{"local", "local"}, {"prod", "prod"}};
  config.currentContext = "prod";
  return config;
}

TEST(Config, RoundTripsThroughTheFile) {
  TempDir dir;
  std::string path = (dir.path() / ".braidctl" / "config").string();
  saveConfig(path, sample());
  EXPECT_EQ(loadConfig(path), sample());
  ASSERT_NE(sample().current(), nullptr);
  EXPECT_EQ(loadConfig(path).current()->url, "https://cp.example:5682");
  EXPECT_EQ(loadConfig(path).current()->authToken, "secret-token");
}

TEST(Config, KumactlLayout) {
  EXPECT_EQ(serializeConfig(sample()),
            "controlPlanes:\n"
            "  - name: local\n"
            "    coordinates:\n"
            "      apiServer:\n"
            "        url: \"http://127.0.0.1:5681\"\n"
            "  - name: prod\n"
            "    coordinates:\n"
            "      apiServer:\n"
            "        url: \"https://cp.example:5682\"\n"
            "        authToken: secret-token\n"
            "contexts:\n"
            "  - name: local\n"
            "    controlPlane: local\n"
            "  - name: prod\n"
            "    controlPlane: prod\n"
            "currentContext: prod\n");
}

TEST(Config, FileIsReadableByItsOwnerOnly) {
  TempDir dir;
  std::string path = (dir.path() / "config").string();
  {
    std::ofstream(path) << "currentContext: x\n";
    ::chmod(path.c_str(), 0644);
  }
  saveConfig(path, sample());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(fs::exists(path + ".tmp." + std::to_string(::getpid())));
}

TEST(Config, MissingFileIsEmpty) {
  TempDir dir;
  CliConfig config = loadConfig((dir.path() / "none").string());
  EXPECT_TRUE(config.controlPlanes.empty());
  EXPECT_EQ(config.current(), nullptr);
}

TEST(Config, CurrentContextPointingNowhereHasNoControlPlane) {
  CliConfig config = sample();
  config.currentContext = "gone";
  EXPECT_EQ(config.current(), nullptr);
}

TEST(Config, MalformedFilesNameTheFileAndField) {
  auto error = [](const std::string& text) {
    try {
      parseConfig(text, "/home/u/.braidctl/config");
    } catch (const CliError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(error("controlPlanes: 3\n"), "/home/u/.braidctl/config: controlPlanes: must be a list");
  EXPECT_EQ(error("controlPlanes: [{name: a}]\n"),
            "/home/u/.braidctl/config: controlPlanes[0].coordinates.apiServer.url: is required");
  EXPECT_EQ(error("controlPlanes: [{name: a, coordinates: {apiServer: {url: [1]}}}]\n"),
            "/home/u/.braidctl/config: controlPlanes[0].coordinates.apiServer.url: must be a "
            "string");
  EXPECT_EQ(error("currentContext: {a: 1}\n"),
            "/home/u/.braidctl/config: currentContext: must be a string");
  EXPECT_EQ(error("[1, 2]\n"), "/home/u/.braidctl/config: must be a map");
  EXPECT_NE(error("a: [\n").find("invalid YAML at line"), std::string::npos);
  EXPECT_EQ(error(""), "accepted");
}

}  // namespace
}  // namespace braid::cli
