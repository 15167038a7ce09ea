#include "dataplane/config/dataplane_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace braid::dataplane {
namespace {

TEST(SubstituteVariables, ReplacesPlaceholdersWithOrWithoutSpaces) {
  std::string out, error;
  ASSERT_TRUE(substituteVariables("name: {{ name }}\naddress: {{addr}}\n",
                                  {{"name", "web-1"}, {"addr", "10.0.0.1"}, {"unused", "x"}}, out,
                                  error))
      << error;
  EXPECT_EQ(out, "name: web-1\naddress: 10.0.0.1\n");
}

TEST(SubstituteVariables, AMissingVariableIsNamed) {
  std::string out, error;
  EXPECT_FALSE(substituteVariables("name: {{ name }}\n", {}, out, error));
  EXPECT_EQ(error,
            "the dataplane file uses {{ name }} but no --dataplane-var name=VALUE was given");
  EXPECT_FALSE(substituteVariables("name: {{ name\n", {{"name", "x"}}, out, error));
  EXPECT_EQ(error, "unterminated '{{' in the dataplane file");
}

class DataplaneFileTest : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    auto path = std::filesystem::temp_directory_path() /
                ("braid-dpfile-" + std::to_string(::getpid()) + ".yaml");
    std::ofstream(path) << text;
    paths_.push_back(path);
    return path.string();
  }
  void TearDown() override {
    for (const auto& p : paths_) std::filesystem::remove(p);
  }
  std::vector<std::filesystem::path> paths_;
};

TEST_F(DataplaneFileTest, LoadsAndValidates) {
  std::string path = write(
      "type: Dataplane\nmesh: default\nname: {{ name }}\nnetworking:\n  address: 127.0.0.1\n"
      "  inbound:\n  - port: 10001\n    servicePort: 9001\n    tags: {braid.io/service: web}\n");
  DataplaneFile file;
  std::string error;
  ASSERT_TRUE(loadDataplaneFile(path, {{"name", "web-1"}}, file, error)) << error;
  EXPECT_EQ(file.type, "Dataplane");
  EXPECT_EQ(file.mesh, "default");
  EXPECT_EQ(file.name, "web-1");
  EXPECT_NE(file.text.find("name: web-1"), std::string::npos);
}

TEST_F(DataplaneFileTest, AnInvalidFileListsEveryField) {
  std::string path =
      write("type: Dataplane\nmesh: default\nname: x\nnetworking:\n  inbound:\n  - port: 0\n");
  DataplaneFile file;
  std::string error;
  EXPECT_FALSE(loadDataplaneFile(path, {}, file, error));
  EXPECT_NE(error.find("networking.address"), std::string::npos) << error;
  EXPECT_NE(error.find("networking.inbound[0].port"), std::string::npos) << error;
}

TEST_F(DataplaneFileTest, AMissingFileIsNamed) {
  DataplaneFile file;
  std::string error;
  EXPECT_FALSE(loadDataplaneFile("/nonexistent/dp.yaml", {}, file, error));
  EXPECT_EQ(error, "cannot read the dataplane file /nonexistent/dp.yaml");
}

}  // namespace
}  // namespace braid::dataplane
