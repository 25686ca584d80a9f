#include "service/command_line.h"

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

ABSL_FLAG(std::string, test_name, "default name", "A string flag.");
ABSL_FLAG(int, test_count, 1, "An int flag.");
ABSL_FLAG(bool, test_verbose, false, "A bool flag.");
ABSL_FLAG(absl::Duration, test_timeout, absl::Seconds(1), "A duration flag.");

namespace tasks::service {
namespace {

using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// Runs ParseFlags on "program" followed by `args`.
absl::StatusOr<CommandLineAction> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "program");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return ParseFlags(static_cast<int>(argv.size()), argv.data());
}

class ParseFlagsTest : public ::testing::Test {
 protected:
  void TearDown() override {
    absl::SetFlag(&FLAGS_test_name, "default name");
    absl::SetFlag(&FLAGS_test_count, 1);
    absl::SetFlag(&FLAGS_test_verbose, false);
    absl::SetFlag(&FLAGS_test_timeout, absl::Seconds(1));
  }
};

TEST_F(ParseFlagsTest, SetsFlagsInEveryForm) {
  EXPECT_THAT(Parse({"--test_name=x", "--test_count", "7", "--test_verbose",
                     "-test_timeout=250ms"}),
              IsOkAndHolds(CommandLineAction::kRun));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_name), "x");
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 7);
  EXPECT_TRUE(absl::GetFlag(FLAGS_test_verbose));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_timeout), absl::Milliseconds(250));
  EXPECT_THAT(Parse({"--notest_verbose"}),
              IsOkAndHolds(CommandLineAction::kRun));
  EXPECT_FALSE(absl::GetFlag(FLAGS_test_verbose));
}

TEST_F(ParseFlagsTest, HelpIsReported) {
  EXPECT_THAT(Parse({"--help"}), IsOkAndHolds(CommandLineAction::kHelp));
}

TEST_F(ParseFlagsTest, UnknownFlagIsAnError) {
  EXPECT_THAT(
      Parse({"--test_nmae=x"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--test_nmae")));
}

TEST_F(ParseFlagsTest, BadValueIsAnErrorNamingTheFlag) {
  EXPECT_THAT(
      Parse({"--test_count=many"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("test_count")));
  EXPECT_THAT(
      Parse({"--test_timeout=5 parsecs"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("test_timeout")));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 1);
}

TEST_F(ParseFlagsTest, MissingValueAndPositionalArgumentsAreErrors) {
  EXPECT_THAT(
      Parse({"--test_name"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs a value")));
  EXPECT_THAT(Parse({"stray"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("stray")));
}

TEST_F(ParseFlagsTest, VersionIsReported) {
  EXPECT_THAT(Parse({"--test_count=2", "--version"}),
              IsOkAndHolds(CommandLineAction::kVersion));
}

// Writes `text` to a file named `name` under TEST_TMPDIR; returns its path.
std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST_F(ParseFlagsTest, FlagfileLinesAreFlagsInPlace) {
  const std::string inner = WriteFile("inner.flags", "--test_verbose\n");
  const std::string outer =
      WriteFile("outer.flags",
                "# comment\n\n  --test_name=from file  \n--test_count=5\n"
                "--flagfile=" +
                    inner + "\n");
  // A flag after --flagfile overrides the file's value.
  EXPECT_THAT(
      Parse({"--test_count=2", "--flagfile=" + outer, "--test_count=7"}),
      IsOkAndHolds(CommandLineAction::kRun));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_name), "from file");
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 7);
  EXPECT_TRUE(absl::GetFlag(FLAGS_test_verbose));
}

TEST_F(ParseFlagsTest, RelativeFlagfileIsInTheWorkingDirectory) {
  WriteFile("relative.flags", "--test_count=9\n");
  std::vector<std::string> args = {"program", "--flagfile", "relative.flags"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  EXPECT_THAT(ParseFlags(static_cast<int>(argv.size()), argv.data(),
                         std::getenv("TEST_TMPDIR")),
              IsOkAndHolds(CommandLineAction::kRun));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 9);
}

TEST_F(ParseFlagsTest, BadFlagfileIsAnErrorNamingIt) {
  EXPECT_THAT(Parse({"--flagfile=/no/such/file.flags"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("/no/such/file.flags")));
  const std::string bad = WriteFile("bad.flags", "--test_count=many\n");
  EXPECT_THAT(Parse({"--flagfile=" + bad}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("bad.flags"), HasSubstr("test_count"))));
  const std::string loop = WriteFile("loop.flags", "");
  WriteFile("loop.flags", "--flagfile=" + loop + "\n");
  EXPECT_THAT(
      Parse({"--flagfile=" + loop}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nested")));
}

// A mistyped line may hold a secret ("--db postgresql://u:PASSWORD@h/d" with a
// space for '='): the error, which goes to the log, shows only the name.
TEST_F(ParseFlagsTest, ErrorsDoNotShowWhatFollowsAFlagName) {
  const std::string url = "postgresql://tasks:S3cretPW@db/tasks";
  for (const std::string& arg :
       {"--test_name " + url, "test_name=" + url, "--test_name\t" + url}) {
    absl::StatusOr<CommandLineAction> action = Parse({arg});
    EXPECT_THAT(action, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("test_name")))
        << arg;
    EXPECT_THAT(action.status().message(), ::testing::Not(HasSubstr("S3cret")))
        << arg;
  }
  const std::string file =
      WriteFile("typo.flags", "--test_count=2\n--test_name " + url + "\n");
  absl::StatusOr<CommandLineAction> action = Parse({"--flagfile=" + file});
  EXPECT_THAT(action, StatusIs(absl::StatusCode::kInvalidArgument,
                               AllOf(HasSubstr("typo.flags"),
                                     HasSubstr("--test_name"))));
  EXPECT_THAT(action.status().message(), ::testing::Not(HasSubstr("S3cret")));
}

TEST_F(ParseFlagsTest, FromenvSetsFlagsFromTheEnvironment) {
  setenv("FLAGS_test_name", "from env", 1);
  setenv("FLAGS_test_count", "11", 1);
  EXPECT_THAT(Parse({"--fromenv=test_name,test_count"}),
              IsOkAndHolds(CommandLineAction::kRun));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_name), "from env");
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 11);
  unsetenv("FLAGS_test_name");
  unsetenv("FLAGS_test_count");
}

TEST_F(ParseFlagsTest, FromenvNeedsTheVariableAndTryfromenvDoesNot) {
  unsetenv("FLAGS_test_count");
  EXPECT_THAT(Parse({"--fromenv=test_count"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("FLAGS_test_count is not set")));
  EXPECT_THAT(Parse({"--tryfromenv=test_count"}),
              IsOkAndHolds(CommandLineAction::kRun));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 1);
  EXPECT_THAT(Parse({"--fromenv=test_nmae"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown flag --test_nmae")));
}

TEST(FlagsHelpTest, ListsOnlyFlagsOfTheDirectoryWithDefaults) {
  const std::string help = FlagsHelp("program", "tests/service/");
  EXPECT_THAT(help, HasSubstr("Usage: program"));
  EXPECT_THAT(help, HasSubstr("--test_name  A string flag."));
  EXPECT_THAT(help, HasSubstr("default: \"default name\""));
  EXPECT_THAT(FlagsHelp("program", "no/such/dir/"),
              ::testing::Not(HasSubstr("--test_name")));
}

}  // namespace
}  // namespace tasks::service
