#include "control-plane/runtime/cp_config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace braid::runtime {
namespace {

std::string writeTemp(const std::string& content) {
  auto path =
      std::filesystem::temp_directory_path() /
      ("braid-cp-config-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
       ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".yaml");
  std::ofstream(path) << content;
  return path.string();
}

TEST(CpConfig, Defaults) {
  auto r = loadCpConfig({}, {});
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(r.config.mode, "standalone");
  EXPECT_EQ(r.config.apiAddress, "127.0.0.1:5681");
  EXPECT_EQ(r.config.xdsAddress, "0.0.0.0:5678");
  EXPECT_EQ(r.config.dpAuth, "token");
  EXPECT_EQ(r.config.store, "sqlite:./braid-data/braid.db");
}

TEST(CpConfig, FlagBeatsEnvironmentBeatsFileBeatsDefault) {
  std::string file = writeTemp(
      "api-address: 127.0.0.1:1\nlogLevel: debug\nstore: memory\n"
      "data-dir: /tmp/from-file\n");
  auto r = loadCpConfig({"--config", file, "--api-address=127.0.0.1:3"},
                        {{"BRAID_API_ADDRESS", "127.0.0.1:2"}, {"BRAID_STORE", "sqlite:/x.db"}});
  ASSERT_TRUE(r.errors.empty()) << r.errors[0];
  EXPECT_EQ(r.config.apiAddress, "127.0.0.1:3");  // flag
  EXPECT_EQ(r.config.store, "sqlite:/x.db");      // environment over file
  EXPECT_EQ(r.config.logLevel, "debug");          // file (camelCase key)
  EXPECT_EQ(r.config.dataDir, "/tmp/from-file");  // file
  std::remove(file.c_str());
}

TEST(CpConfig, DefaultStoreFollowsTheDataDir) {
  auto r = loadCpConfig({"--data-dir", "/var/lib/braid"}, {});
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(r.config.store, "sqlite:/var/lib/braid/braid.db");
}

TEST(CpConfig, ReportsEveryProblem) {
  std::string file = writeTemp("colour: blue\nmode: zone\n");
  auto r = loadCpConfig(
      {"--config", file, "--bogus", "1", "--dp-auth", "maybe", "--api-address", "nowhere"},
      {{"BRAID_LOG_LEVEL", "loud"}});
  std::string all;
  for (const auto& e : r.errors) all += e + "\n";
  EXPECT_NE(all.find("unknown flag '--bogus'"), std::string::npos) << all;
  EXPECT_NE(all.find("unknown key 'colour'"), std::string::npos) << all;
  EXPECT_NE(all.find("--dp-auth: invalid value 'maybe'"), std::string::npos) << all;
  EXPECT_NE(all.find("BRAID_LOG_LEVEL: invalid value 'loud'"), std::string::npos) << all;
  EXPECT_NE(all.find("--zone is required in zone mode"), std::string::npos) << all;
  EXPECT_NE(all.find("--api-address: 'nowhere' is not HOST:PORT"), std::string::npos) << all;
  std::remove(file.c_str());
}

TEST(CpConfig, EmptyFileValuesLeaveDefaults) {
  std::string file = writeTemp("zone:\nstore: memory\n");
  auto r = loadCpConfig({"--config", file}, {});
  EXPECT_TRUE(r.errors.empty()) << r.errors[0];
  EXPECT_EQ(r.config.zone, "");
  std::remove(file.c_str());
}

TEST(CpConfig, RedactsStoreCredentials) {
  EXPECT_EQ(redactCredentials("postgres://braid:s3cret@db:5432/braid?sslmode=require"),
            "postgres://braid:***@db:5432/braid?sslmode=require");
  EXPECT_EQ(redactCredentials("postgres://db/braid"), "postgres://db/braid");
  EXPECT_EQ(redactCredentials("sqlite:/var/lib/braid/braid.db"), "sqlite:/var/lib/braid/braid.db");
}

TEST(CpConfig, HelpAndMissingValues) {
  EXPECT_TRUE(loadCpConfig({"--help"}, {}).helpRequested);
  auto r = loadCpConfig({"--store"}, {});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "flag '--store' needs a value");
}

}  // namespace
}  // namespace braid::runtime
