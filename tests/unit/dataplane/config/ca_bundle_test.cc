#include "dataplane/runtime/ca_bundle.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "control-plane/ca/cp_tls.h"

namespace braid::dataplane {
namespace {

class CaBundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("braid-ca-bundle-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    auto p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  std::filesystem::path dir_;
};

TEST_F(CaBundleTest, AcceptsTheCpsCa) {
  ca::CpTlsMaterial tls;
  std::string error, pem;
  std::filesystem::create_directories(dir_ / "cp");
  ASSERT_TRUE(ca::loadOrCreateCpTls((dir_ / "cp").string(), {"localhost"}, tls, error)) << error;
  EXPECT_TRUE(loadCaBundle((dir_ / "cp" / "cp-ca.pem").string(), pem, error)) << error;
  EXPECT_EQ(pem, tls.caCertPem);
}

TEST_F(CaBundleTest, RefusesEmptyMissingDirectoryAndGarbage) {
  std::string pem, error;
  EXPECT_FALSE(loadCaBundle(write("empty.pem", ""), pem, error));
  EXPECT_NE(error.find("holds no PEM certificate"), std::string::npos) << error;
  EXPECT_FALSE(loadCaBundle(dir_.string(), pem, error));
  EXPECT_NE(error.find("not a readable file"), std::string::npos) << error;
  EXPECT_FALSE(loadCaBundle((dir_ / "absent.pem").string(), pem, error));
  EXPECT_FALSE(loadCaBundle(write("junk.pem", "hello\n"), pem, error));
  EXPECT_FALSE(loadCaBundle(
      write("cut.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), pem,
      error));
}

}  // namespace
}  // namespace braid::dataplane
