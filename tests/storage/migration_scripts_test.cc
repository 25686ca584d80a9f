#include "storage/schema/migration_scripts.h"

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tasks::storage {
namespace {

using ::testing::ElementsAreArray;

struct Backend {
  const char* name;
  absl::Span<const MigrationScript> scripts;
};

std::vector<Backend> Backends() {
  return {{"sqlite", SqliteMigrationScripts()},
          {"postgres", PostgresMigrationScripts()}};
}

std::vector<int> Versions(absl::Span<const MigrationScript> scripts) {
  std::vector<int> versions;
  for (const MigrationScript& script : scripts) {
    versions.push_back(script.version);
  }
  return versions;
}

std::vector<std::string> Names(absl::Span<const MigrationScript> scripts) {
  std::vector<std::string> names;
  for (const MigrationScript& script : scripts) {
    names.emplace_back(script.name);
  }
  return names;
}

// The script without its comment lines and surrounding blanks.
std::string Statements(absl::string_view sql) {
  std::string kept;
  for (absl::string_view line : absl::StrSplit(sql, '\n')) {
    if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), "--")) {
      continue;
    }
    absl::StrAppend(&kept, line, "\n");
  }
  return std::string(absl::StripAsciiWhitespace(kept));
}

TEST(MigrationScriptsTest, VersionsCountFromOneWithoutGaps) {
  for (const Backend& backend : Backends()) {
    SCOPED_TRACE(backend.name);
    ASSERT_FALSE(backend.scripts.empty());
    std::vector<int> expected;
    for (int v = 1; v <= static_cast<int>(backend.scripts.size()); ++v) {
      expected.push_back(v);
    }
    EXPECT_THAT(Versions(backend.scripts), ElementsAreArray(expected));
  }
}

TEST(MigrationScriptsTest, BothBackendsHaveTheSameVersionsAndNames) {
  std::cout << "FIGURE migration scripts: " << SqliteMigrationScripts().size()
            << " on sqlite, " << PostgresMigrationScripts().size()
            << " on postgres\n";
  EXPECT_THAT(Versions(PostgresMigrationScripts()),
              ElementsAreArray(Versions(SqliteMigrationScripts())));
  EXPECT_THAT(Names(PostgresMigrationScripts()),
              ElementsAreArray(Names(SqliteMigrationScripts())));
}

// A script without statements (an empty file, a mistake) must say why.
TEST(MigrationScriptsTest, EveryScriptHasANameAndStatements) {
  for (const Backend& backend : Backends()) {
    for (const MigrationScript& script : backend.scripts) {
      SCOPED_TRACE(absl::StrCat(backend.name, " ", script.version));
      EXPECT_FALSE(script.name.empty());
      // A version that changes only the other backend says so.
      if (!absl::StrContains(
              absl::AsciiStrToLower(script.sql),
              absl::StrCat("-- nothing to do on ", backend.name))) {
        EXPECT_NE(Statements(script.sql), "");
      }
    }
  }
}

}  // namespace
}  // namespace tasks::storage
