// --log_format=json on the real task_server: every line its stderr gets,
// gRPC's and Protobuf's own included, is one JSON object, whatever bytes the
// clients sent; call lines carry the fields an operator filters on, and the
// request id is echoed back.

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tasks/v1/tasks.grpc.pb.h"
#include "tests/ops/ops_test_fixture.h"
#include "tests/testing/unary_call.h"

namespace tasks::ops {
namespace {

using google::protobuf::Struct;

constexpr char kListTasks[] = "/tasks.v1.TaskService/ListTasks";
// The one bearer token the server knows: its principal is logged, never it.
constexpr char kToken[] = "T3BzVGVzdFRva2VuRm9yVGhlTG9nczEy";
constexpr char kPrincipal[] = "ops-admin";

class JsonLogTest : public OpsTest {
 protected:
  // One ListTasks call with `order_by` as raw bytes (field 8, length
  // delimited), which need not be UTF-8, and an x-request-id header.
  grpc::Status ListTasksRaw(const std::string& order_by,
                            const std::string& request_id,
                            std::string* echoed) {
    std::string bytes = "\x42";  // field 8, wire type 2
    bytes.push_back(static_cast<char>(order_by.size()));
    bytes += order_by;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    if (!request_id.empty()) context.AddMetadata("x-request-id", request_id);
    context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    grpc::Status status = ::tasks::testing::CallRawUnary(
        server_->NewChannel(), &context, kListTasks, bytes);
    auto found = context.GetServerInitialMetadata().find("x-request-id");
    *echoed = found == context.GetServerInitialMetadata().end()
                  ? ""
                  : std::string(found->second.data(), found->second.size());
    return status;
  }

  ::tasks::testing::TaskServerProcess* server_ = nullptr;
};

TEST_F(JsonLogTest, EveryLineIsOneJsonObjectWhateverTheClientsSend) {
  // GRPC_VERBOSITY=DEBUG: gRPC logs lines of its own, to be checked too (env
  // execs the server in its own process).
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string tokens =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/json_log_tokens");
  std::ofstream(tokens) << kToken << " " << kPrincipal << " *\n";
  server_ = StartServer({"--log_format=json", "--auth_tokens_file=" + tokens},
                        {"/usr/bin/env", "GRPC_VERBOSITY=DEBUG"});
  ASSERT_NE(server_, nullptr);

  struct Case {
    std::string order_by;
    std::string request_id;
    bool echoed;  // a valid id comes back
  };
  const std::vector<Case> cases = {
      {"create_time", "req-1.ok:/+=", true},
      {"title\n{\"level\":\"error\"}", "quote\"and\\backslash", false},
      {"bad \xff\xfe utf8 \xc3", "spaces are not allowed", false},
      {"\x1b[31mred\r\x7f", std::string(200, 'a'), false},
      {"priority desc", "5f0c8a52-3b7e-4d52-9a53-0d3c1e6f7a10", true},
  };
  int echoed_ok = 0;
  for (const Case& c : cases) {
    std::string echoed;
    grpc::Status status = ListTasksRaw(c.order_by, c.request_id, &echoed);
    EXPECT_EQ(echoed, c.echoed ? c.request_id : "")
        << "status " << status.error_code();
    if (c.echoed && echoed == c.request_id) ++echoed_ok;
  }
  // Stop the server so that its log is complete.
  ASSERT_TRUE(server_->Signal(SIGTERM).ok());
  ASSERT_TRUE(server_->WaitForExit(absl::Seconds(30)).ok());

  std::ifstream log(server_->log_path());
  ASSERT_TRUE(log.good()) << server_->log_path();
  int lines = 0, parsed = 0, calls = 0, with_request_id = 0, grpc_lines = 0;
  int protobuf_lines = 0;
  std::string line;
  while (std::getline(log, line)) {
    if (line.rfind("=== ", 0) == 0) continue;  // TaskServerProcess's own
    ++lines;
    Struct object;
    const auto status =
        google::protobuf::util::JsonStringToMessage(line, &object);
    EXPECT_TRUE(status.ok()) << "line " << lines << " is not JSON: " << line;
    if (!status.ok()) continue;
    ++parsed;
    EXPECT_EQ(line.find(kToken), std::string::npos) << "token logged: " << line;
    const auto& fields = object.fields();
    EXPECT_TRUE(fields.count("time") && fields.count("level") &&
                fields.count("message"))
        << line;
    auto text = [&fields](const std::string& key) {
      auto found = fields.find(key);
      return found == fields.end() ? std::string()
                                   : found->second.string_value();
    };
    if (text("source") == "grpc") ++grpc_lines;
    if (text("source") == "protobuf") {
      ++protobuf_lines;
      // A client's unparsable request is not the server's error.
      EXPECT_EQ(text("level"), "warning") << line;
    }
    if (text("message") != "call") continue;
    // The fixture's health checks are logged too.
    if (text("method") == kListTasks) {
      ++calls;
      EXPECT_EQ(text("principal"), kPrincipal) << line;
    }
    if (fields.count("error")) {
      EXPECT_TRUE(
          absl::StartsWith(text("error"), "order_by: unknown ordering \"") ||
          absl::StartsWith(text("error"),
                           "the request does not decode as "
                           "tasks.v1.ListTasksRequest"))
          << line;
    }
    EXPECT_FALSE(text("code").empty()) << line;
    EXPECT_TRUE(fields.count("latency_ms") &&
                fields.at("latency_ms").has_number_value())
        << line;
    EXPECT_EQ(text("peer").rfind("ipv4:127.0.0.1:", 0), 0u) << line;
    if (!text("request_id").empty()) {
      ++with_request_id;
      EXPECT_TRUE(text("request_id") == cases[0].request_id ||
                  text("request_id") == cases[4].request_id)
          << line;
    }
  }
  EXPECT_EQ(parsed, lines);
  // The call with invalid UTF-8 in a string field has its line too (the
  // server parses requests itself: INVALID_ARGUMENT), and Protobuf's
  // complaint is one of the lines above.
  EXPECT_EQ(calls, static_cast<int>(cases.size()));
  EXPECT_GT(protobuf_lines, 0);
  EXPECT_EQ(with_request_id, 2);
  EXPECT_EQ(echoed_ok, 2);
  EXPECT_GT(grpc_lines, 0) << "gRPC's own lines did not reach the logger";
  ReportFigure(absl::StrCat(lines, " stderr lines, ", parsed,
                            " parse as JSON; ", calls, " call lines, ",
                            with_request_id, " with a request id (", echoed_ok,
                            " echoed), ", grpc_lines, " from gRPC, ",
                            protobuf_lines, " from Protobuf"));
}

}  // namespace
}  // namespace tasks::ops
