#include "service/command_line.h"

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
  EXPECT_THAT(Parse({"--test_nmae=x"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--test_nmae")));
}

TEST_F(ParseFlagsTest, BadValueIsAnErrorNamingTheFlag) {
  EXPECT_THAT(Parse({"--test_count=many"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("test_count")));
  EXPECT_THAT(Parse({"--test_timeout=5 parsecs"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("test_timeout")));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 1);
}

TEST_F(ParseFlagsTest, MissingValueAndPositionalArgumentsAreErrors) {
  EXPECT_THAT(Parse({"--test_name"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("needs a value")));
  EXPECT_THAT(Parse({"stray"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("stray")));
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
