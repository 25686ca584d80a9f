#include "storage/filter/filter.h"

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "storage/filter/filter_sql.h"
#include "storage/filter/matches.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::storage::filter {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

v1::Task SampleTask() {
  v1::Task task;
  task.set_id(7);
  task.set_project_id(3);
  task.set_title("Book the venue");
  task.set_description("A draft plan");
  task.set_status(v1::Task::PENDING);
  task.set_priority(v1::Task::HIGH);
  task.mutable_create_time()->set_seconds(1767225600);  // 2026-01-01
  task.mutable_update_time()->set_seconds(1767225600);
  auto& fields = *task.mutable_metadata()->mutable_fields();
  fields["owner"].set_string_value("ana");
  fields["budget"].set_number_value(1200);
  fields["code"].set_string_value("1200");
  fields["done"].set_bool_value(false);
  fields["gone"].set_null_value(google::protobuf::NULL_VALUE);
  (*fields["review"].mutable_struct_value()->mutable_fields())["by"]
      .set_string_value("li");
  return task;
}

bool Holds(const std::string& text) {
  absl::StatusOr<Node> parsed = ParseFilter(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status();
  return parsed.ok() && Matches(*parsed, SampleTask());
}

TEST(FilterTest, ComparisonsOnEveryFieldMatchTheTask) {
  for (const char* text : {
           "",
           "  ",
           "id = 7",
           "id >= 7 AND id < 8",
           "project_id = 3",
           "status = PENDING",
           "status < COMPLETED",
           "priority >= HIGH",
           "priority > MEDIUM",
           "title = \"Book the venue\"",
           "title < 'C'",
           "title:venue",
           "title:\"the v\"",
           "description:draft",
           "create_time = \"2026-01-01T00:00:00Z\"",
           "update_time < \"2026-01-01T00:00:00.000001Z\"",
           "create_time > \"2026-01-01T00:59:59+01:00\"",
           // Protobuf Timestamp's whole range, beyond int64 nanoseconds'.
           "create_time < \"9999-12-31T23:59:59.999999Z\"",
           "create_time > \"0001-01-01T00:00:00Z\"",
           "create_time < \"2262-04-11T23:47:17Z\"",
           "id > -9223372036854775808",
           "metadata.owner = \"ana\"",
           "metadata.owner = ana",
           "metadata.budget = 1200",
           "metadata.budget >= 1.2e3",
           "metadata.budget > -5",
           "metadata.code = \"1200\"",
           "metadata.done = false",
           "metadata.gone = null",
           "metadata.gone:*",
           "metadata.review.by = li",
           "metadata.review:*",
           "metadata.owner != bob",
           "metadata.missing != 1",
           "project_id != 4",
           "NOT status = COMPLETED",
           "-title:draft",
           "status = COMPLETED OR priority = HIGH",
           "(project_id = 3 OR project_id = 4) AND NOT title:\"draft\"",
       }) {
    EXPECT_TRUE(Holds(text)) << text;
  }
}

TEST(FilterTest, ComparisonsThatFailDoNotMatch) {
  for (const char* text : {
           "id = 8",
           "project_id = 4",
           "status = IN_PROGRESS",
           "priority < HIGH",
           "title:Venue",  // case-sensitive
           "description:venue",
           "create_time > \"2026-01-01T00:00:00Z\"",
           "metadata.owner = \"Ana\"",
           "metadata.budget = \"1200\"",  // a number is not a string
           "metadata.code = 1200",        // nor the other way round
           "metadata.done = true",
           "metadata.owner = null",
           "metadata.missing:*",
           "metadata.missing = null",
           "metadata.owner > 5",
           "metadata.review.by.x = 1",
           "NOT metadata.owner:*",
           // OR binds tighter: id = 8 AND (status = PENDING OR ...).
           "id = 8 AND status = PENDING OR priority = HIGH",
       }) {
    EXPECT_FALSE(Holds(text)) << text;
  }
}

TEST(FilterTest, TaskWithoutProjectFailsEveryProjectComparisonButNotEqual) {
  v1::Task task = SampleTask();
  task.clear_project_id();
  EXPECT_FALSE(Matches(*ParseFilter("project_id > 0"), task));
  EXPECT_FALSE(Matches(*ParseFilter("project_id = 3"), task));
  EXPECT_TRUE(Matches(*ParseFilter("project_id != 3"), task));
  EXPECT_TRUE(Matches(*ParseFilter("NOT project_id > 0"), task));
}

// The projects MatchableProjects names for `text`, sorted; {-1} for nullopt.
std::vector<int64_t> Projects(const std::string& text) {
  absl::StatusOr<Node> parsed = ParseFilter(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status();
  if (!parsed.ok()) return {};
  std::optional<absl::flat_hash_set<int64_t>> projects =
      MatchableProjects(*parsed);
  if (!projects.has_value()) return {-1};
  std::vector<int64_t> sorted(projects->begin(), projects->end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

TEST(FilterTest, MatchableProjectsComeFromProjectEqualityTerms) {
  EXPECT_EQ(Projects("project_id = 3"), std::vector<int64_t>({3}));
  EXPECT_EQ(Projects("status = PENDING AND project_id = 3"),
            std::vector<int64_t>({3}));
  EXPECT_EQ(Projects("project_id = 3 OR project_id = 4"),
            std::vector<int64_t>({3, 4}));
  EXPECT_EQ(Projects("(project_id = 3 OR project_id = 4) AND project_id = 4"),
            std::vector<int64_t>({4}));
  EXPECT_EQ(Projects("project_id = 3 AND project_id = 4"),
            std::vector<int64_t>({}));
  for (const char* any :
       {"", "status = PENDING", "project_id != 3", "project_id > 3",
        "NOT project_id = 3", "project_id = 3 OR status = PENDING",
        "metadata.project_id = 3"}) {
    EXPECT_EQ(Projects(any), std::vector<int64_t>({-1})) << any;
  }
}

// What MatchableProjects promises, on every task of a small grid: a task
// outside the named projects matches nothing.
TEST(FilterTest, NoTaskOutsideTheMatchableProjectsMatches) {
  for (const char* text :
       {"project_id = 3", "project_id = 3 OR project_id = 4",
        "title:\"venue\" AND (project_id = 4 OR project_id = 3)",
        "project_id = 3 AND project_id = 4"}) {
    const Node filter = *ParseFilter(text);
    const absl::flat_hash_set<int64_t> projects = *MatchableProjects(filter);
    for (int64_t project : {0, 1, 2, 3, 4, 5}) {
      v1::Task task = SampleTask();
      if (project == 0) {
        task.clear_project_id();
      } else {
        task.set_project_id(project);
      }
      if (!projects.contains(project)) {
        EXPECT_FALSE(Matches(filter, task)) << text << " " << project;
      }
    }
  }
}

TEST(FilterTest, ErrorsNameThePositionAndTheFilterField) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"status = ", "expected a value after \"=\" at position 10"},
           {"owner = 1", "unknown field \"owner\""},
           {"status = DONE",
            "expected one of PENDING, IN_PROGRESS, COMPLETED at position 10"},
           {"id = 1 id = 2",
            "expected AND, OR or the end of the filter at position 8"},
           {"(id = 1", "expected \")\" at position 8"},
           {"id = 1)", "unmatched \")\" at position 7"},
           {"title = \"open", "unterminated string at position 9"},
           {"id ! 1", "expected \"!=\" at position 4"},
           {"id = 1.5", "expected an integer at position 6"},
           {"metadata = 1", "expected \".\" and a metadata key at position 10"},
           {"metadata.0 = 1", "expected a metadata key"},
           {"metadata.a < true", "true, false and null take only = and !="},
           {"metadata.a:x", "takes only \":*\""},
           {"description = x", "description takes only \":\""},
           {"status:PENDING",
            "\":\" applies to title, description and metadata"},
           {"create_time > 2026", "expected an RFC 3339 time"},
           {"create_time > \"2026-01-01T00:00:00.0000001Z\"", "microsecond"},
           {"create_time > \"9999-01-01T00:00:00.0000001Z\"", "microsecond"},
           {"id > -9223372036854775809", "expected an integer"},
           {"metadata.a = 1e999", "malformed number"},
           {"metadata.a = 1e-400", "number too small for a double"},
           {"metadata.a = -2.5e-999", "number too small for a double"},
           {"id = 1 AND", "expected a field name at position 11"},
           {"id # 1", "unexpected character at position 4"},
           {"title = \"a\\nb\"", "unknown escape"},
       }) {
    absl::StatusOr<Node> parsed = ParseFilter(c.text);
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(c.message))
        << c.text;
    EXPECT_THAT(std::string(parsed.status().message()),
                ::testing::StartsWith("filter: "));
    EXPECT_EQ(ErrorField(parsed.status()), "filter");
  }
}

TEST(FilterTest, ZeroAndTheSmallestDoublesAreNumbers) {
  for (const char* text :
       {"metadata.a = 0", "metadata.a = 0e5", "metadata.a = 0.000e-999",
        "metadata.a = -0", "metadata.a = 5e-324", "metadata.a > 1e-300"}) {
    EXPECT_TRUE(ParseFilter(text).ok()) << text;
  }
}

std::string ErrorOf(const std::string& text) {
  return std::string(ParseFilter(text).status().message());
}

// Positions count characters, not bytes: "é" is two bytes, "😀" four.
TEST(FilterTest, ErrorPositionsCountCharactersNotBytes) {
  EXPECT_THAT(ErrorOf("title = \"éééé\" AND bogus = 1"),
              AllOf(HasSubstr("unknown field \"bogus\""),
                    ::testing::EndsWith("at position 20")));
  EXPECT_THAT(ErrorOf("title = \"😀😀\" AND bogus = 1"),
              AllOf(HasSubstr("unknown field \"bogus\""),
                    ::testing::EndsWith("at position 18")));
  EXPECT_THAT(ErrorOf("title = \"éé\" status = "),
              HasSubstr("expected AND, OR or the end of the filter at "
                        "position 14"));
  EXPECT_THAT(ErrorOf("title = \"é\" AND id = "),
              HasSubstr("expected a value after \"=\" at position 22"));
  EXPECT_THAT(ErrorOf("title = \"é\" AND title = \"ü\\n\""),
              HasSubstr("unknown escape; only \\\\, \\\" and \\' are at "
                        "position 27"));
  EXPECT_THAT(ErrorOf("title = \"é\" AND title = \"ü"),
              HasSubstr("unterminated string at position 25"));
  EXPECT_THAT(ErrorOf(std::string("title = \"é\" AND id = 1\0", 24)),
              HasSubstr("NUL character at position 23"));
  std::string wide;
  while (wide.size() <= kMaxFilterLength) wide += "é";  // 1,025 characters
  EXPECT_THAT(ErrorOf(wide), HasSubstr("longer than 2048 bytes at position "
                                       "1025"));
}

TEST(FilterTest, HostileFiltersAreRefusedCheaply) {
  EXPECT_THAT(ErrorOf(std::string(kMaxFilterLength + 1, ' ')),
              HasSubstr("longer than 2048 bytes"));
  EXPECT_THAT(ErrorOf(std::string(17, '(') + "id = 1" + std::string(17, ')')),
              HasSubstr("nested more than 16 levels deep at position 17"));
  std::string nots;
  for (int i = 0; i < 17; ++i) nots += "NOT ";
  EXPECT_FALSE(ParseFilter(nots + "id = 1").ok());
  EXPECT_FALSE(ParseFilter(std::string(17, '-') + "id = 1").ok());
  std::string many = "id = 0";
  for (int i = 1; i < kMaxFilterTerms; ++i)
    many += " OR id = " + std::to_string(i);
  EXPECT_TRUE(ParseFilter(many).ok());
  EXPECT_THAT(ErrorOf(many + " OR id = 99"),
              HasSubstr("more than 32 comparisons"));
  EXPECT_THAT(ErrorOf(std::string("id = 1\0", 7)),
              HasSubstr("NUL character at position 7"));
  // 16 levels are fine.
  EXPECT_TRUE(
      ParseFilter(std::string(16, '(') + "id = 1" + std::string(16, ')')).ok());
}

// Arbitrary strings, made of the grammar's pieces and stray bytes: each parses
// (and then compiles and evaluates) or is INVALID_ARGUMENT on "filter" with a
// position; nothing crashes (the fuzz target does the same through the API).
TEST(FilterTest, RandomInputsParseOrFailWithAPosition) {
  const char* const kPieces[] = {"id",
                                 "project_id",
                                 "title",
                                 "description",
                                 "status",
                                 "priority",
                                 "create_time",
                                 "metadata",
                                 ".",
                                 "a",
                                 "b",
                                 " ",
                                 " AND ",
                                 " OR ",
                                 "NOT ",
                                 "-",
                                 "(",
                                 ")",
                                 "=",
                                 "!=",
                                 "<",
                                 "<=",
                                 ">",
                                 ">=",
                                 ":",
                                 "*",
                                 "\"",
                                 "'",
                                 "\\",
                                 "1",
                                 "-2.5e3",
                                 "1e999",
                                 "HIGH",
                                 "PENDING",
                                 "null",
                                 "true",
                                 "\"2026-01-01T00:00:00Z\"",
                                 "!",
                                 "#",
                                 "\xc3\xa9",
                                 "\t"};
  constexpr int kPieceCount = sizeof(kPieces) / sizeof(kPieces[0]);
  uint64_t state = 42;
  auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>(state >> 33);
  };
  int parsed = 0;
  constexpr int kInputs = 20000;
  for (int i = 0; i < kInputs; ++i) {
    std::string text;
    const int pieces = next() % 24;
    for (int p = 0; p < pieces; ++p) text += kPieces[next() % kPieceCount];
    absl::StatusOr<Node> node = ParseFilter(text);
    if (node.ok()) {
      ++parsed;
      ToSql(*node, SqlDialect::kSqlite);
      ToSql(*node, SqlDialect::kPostgres);
      Matches(*node, SampleTask());
      continue;
    }
    ASSERT_EQ(node.status().code(), absl::StatusCode::kInvalidArgument) << text;
    ASSERT_EQ(ErrorField(node.status()), "filter") << text;
    ASSERT_THAT(std::string(node.status().message()),
                HasSubstr(" at position "))
        << text;
  }
  std::cout << "FIGURE random filters: " << parsed << " of " << kInputs
            << " parsed, the rest INVALID_ARGUMENT with a position\n";
  EXPECT_GT(parsed, 0);
}

TEST(FilterTest, SqlBindsEveryValueAndNeverSplicesIt) {
  Node parsed = *ParseFilter(
      "title = \"x' OR 1=1 --\" AND metadata.owner = 'ana' AND priority >= "
      "HIGH");
  for (SqlDialect dialect : {SqlDialect::kSqlite, SqlDialect::kPostgres}) {
    SqlFilter sql = ToSql(parsed, dialect);
    EXPECT_THAT(sql.condition, ::testing::Not(HasSubstr("OR 1=1")));
    EXPECT_THAT(sql.condition, ::testing::Not(HasSubstr("ana")));
    EXPECT_THAT(sql.condition, HasSubstr("title = :filter_t0"));
    EXPECT_THAT(sql.condition, HasSubstr("priority >= :filter_i3"));
    ASSERT_EQ(sql.params.size(), 4u);
    EXPECT_EQ(sql.params[0].text, "x' OR 1=1 --");
    EXPECT_EQ(sql.params[2].text, "ana");
    EXPECT_EQ(sql.params[3].integer, 3);
  }
  EXPECT_EQ(ToSql(parsed, SqlDialect::kSqlite).params[1].text, "$.owner");
  EXPECT_EQ(ToSql(parsed, SqlDialect::kPostgres).params[1].text, "{\"owner\"}");
  EXPECT_EQ(ToSql(*ParseFilter(""), SqlDialect::kSqlite).condition, "");
}

}  // namespace
}  // namespace tasks::storage::filter
