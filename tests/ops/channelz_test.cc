// --channelz on the real task_server: grpc.channelz.v1.Channelz answers
// GetServers (called with raw bytes: Debian ships no channelz stubs); off by
// default.

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/ops/ops_test_fixture.h"
#include "tests/testing/unary_call.h"

namespace tasks::ops {
namespace {

constexpr char kGetServers[] = "/grpc.channelz.v1.Channelz/GetServers";

// GetServers with an empty GetServersRequest (start_server_id 0: all); the
// answer's size goes to `answer_bytes`.
grpc::Status GetServers(const std::shared_ptr<grpc::Channel>& channel,
                        size_t* answer_bytes) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  grpc::ByteBuffer response;
  grpc::Status status = ::tasks::testing::CallRawUnary(
      channel, &context, kGetServers, "", &response);
  *answer_bytes = response.Length();
  return status;
}

class ChannelzTest : public OpsTest {};

TEST_F(ChannelzTest, GetServersAnswersWithTheFlag) {
  auto* server = StartServer({"--channelz"});
  ASSERT_NE(server, nullptr);
  size_t bytes = 0;
  const grpc::Status status = GetServers(server->NewChannel(), &bytes);
  EXPECT_TRUE(status.ok()) << status.error_code() << " "
                           << status.error_message();
  // A GetServersResponse with one server (field 1) and `end` (field 2).
  EXPECT_GT(bytes, 10u);
  ReportFigure(absl::StrCat("--channelz: GetServers ",
                            status.ok() ? "OK" : "failed", ", ", bytes,
                            " bytes"));
}

TEST_F(ChannelzTest, OffByDefault) {
  auto* server = StartServer({});
  ASSERT_NE(server, nullptr);
  size_t bytes = 0;
  const grpc::Status status = GetServers(server->NewChannel(), &bytes);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  ReportFigure(absl::StrCat("default: GetServers code ", status.error_code()));
}

}  // namespace
}  // namespace tasks::ops
