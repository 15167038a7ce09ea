#include "cli/table.h"

#include <gtest/gtest.h>

#include <sstream>

#include "support/golden.h"

namespace braid::cli {
namespace {

using braid::testing::compareGolden;
using braid::testing::sourceDir;

std::filesystem::path golden(const char* name) { return sourceDir() / "tests/golden/cli" / name; }

TEST(Table, AlignsColumnsWithThreeSpaceGapsAndUppercaseHeaders) {
  std::string table =
      formatTable({"mesh", "name", "targetRef", "age"},
                  {{"default", "backend-timeout", "MeshService/backend", "5s"},
                   {"default", "t", "Mesh", "3m"},
                   {"a-much-longer-mesh-name", "x", "MeshSubset{version=v2}", "4d"}});
  auto diff = compareGolden(golden("table-aligned.golden"), table);
  EXPECT_TRUE(diff.empty()) << diff;
}

TEST(Table, NoTrailingSpacesAndDashesForEmptyCells) {
  std::string table = formatTable({"NAME", "TAGS", "AGE"}, {{"a", "", ""}, {"bb", "k=v", "1h"}});
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);) {
    ASSERT_FALSE(line.empty());
    EXPECT_NE(line.back(), ' ') << "trailing space in '" << line << "'";
  }
  EXPECT_EQ(table,
            "NAME   TAGS   AGE\n"
            "a      -      -\n"
            "bb     k=v    1h\n");
}

TEST(Table, HeaderOnlyWhenThereAreNoRows) {
  EXPECT_EQ(formatTable({"mesh", "name"}, {}), "MESH   NAME\n");
}

TEST(Table, MissingCellsAreDashesAndExtraCellsAreDropped) {
  EXPECT_EQ(formatTable({"A", "B"}, {{"x"}, {"y", "z", "ignored"}}),
            "A   B\n"
            "x   -\n"
            "y   z\n");
}

TEST(Table, WidthCountsCharactersNotBytes) {
  EXPECT_EQ(displayWidth("héllo"), 5u);
  EXPECT_EQ(formatTable({"N", "X"}, {{"é", "1"}, {"ab", "2"}}),
            "N    X\n"
            "é    1\n"
            "ab   2\n");
}

}  // namespace
}  // namespace braid::cli
