#include "service/status_util.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/grpc_status_matchers.h"
#include "tests/testing/stderr_capture.h"

namespace tasks::service {
namespace {

using ::tasks::testing::GrpcErrorIs;
using ::tasks::testing::GrpcInvalidField;
using ::tasks::testing::GrpcOk;
using ::tasks::testing::ParseRpcErrorDetails;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(ToGrpcStatusTest, OkIsOk) {
  EXPECT_THAT(ToGrpcStatus(absl::OkStatus()), GrpcOk());
}

TEST(ToGrpcStatusTest, EveryCodeKeepsItsNumber) {
  for (int code = 1; code <= 16; ++code) {
    grpc::Status status = ToGrpcStatus(
        absl::Status(static_cast<absl::StatusCode>(code), "failed"));
    EXPECT_EQ(status.error_code(), code);
    EXPECT_EQ(ParseRpcErrorDetails(status).code, code);
  }
}

TEST(ToGrpcStatusTest, AttachedReasonBecomesErrorInfo) {
  grpc::Status status = ToGrpcStatus(WithReason(
      absl::NotFoundError("no task with id 7"), reason::kTaskNotFound));
  EXPECT_THAT(status,
              GrpcErrorIs(grpc::StatusCode::NOT_FOUND, reason::kTaskNotFound));
  EXPECT_EQ(status.error_message(), "no task with id 7");
}

TEST(ToGrpcStatusTest, MissingReasonDefaultsToCodeName) {
  EXPECT_THAT(ToGrpcStatus(absl::AbortedError("conflict")),
              GrpcErrorIs(grpc::StatusCode::ABORTED, "ABORTED"));
  EXPECT_THAT(
      ToGrpcStatus(absl::UnavailableError("down")),
      GrpcErrorIs(grpc::StatusCode::UNAVAILABLE, reason::kDatabaseUnavailable));
}

TEST(ToGrpcStatusTest, InvalidFieldBecomesBadRequestViolation) {
  grpc::Status status =
      ToGrpcStatus(InvalidField("task.title", "must not be blank"));
  EXPECT_THAT(status, GrpcInvalidField("task.title", reason::kInvalidArgument));
  EXPECT_EQ(status.error_message(), "task.title: must not be blank");
}

TEST(ToGrpcStatusTest, OperatorDetailIsLoggedNotSent) {
  const absl::Status failed = WithOperatorDetail(
      WithReason(absl::UnavailableError("cannot connect to postgresql"),
                 reason::kDatabaseUnavailable),
      "connection to server on socket \"/run/secret/.s.PGSQL.5432\" failed");
  testing::StderrCapture capture;
  const grpc::Status status = ToGrpcStatus(failed);
  const std::string log = capture.Stop();
  EXPECT_THAT(status, GrpcErrorIs(grpc::StatusCode::UNAVAILABLE,
                                  reason::kDatabaseUnavailable));
  EXPECT_EQ(status.error_message(), "cannot connect to postgresql");
  EXPECT_THAT(status.error_details(), Not(HasSubstr("/run/secret")));
  EXPECT_THAT(log, HasSubstr("UNAVAILABLE cannot connect to postgresql: "
                             "connection to server on socket "
                             "\"/run/secret/.s.PGSQL.5432\" failed"));
}

TEST(ClipStatusMessageTest, ShortMessagesAreKept) {
  const std::string message(kMaxStatusMessageBytes, 'm');
  EXPECT_EQ(ClipStatusMessage(message), message);
}

TEST(ClipStatusMessageTest, LongOnesKeepTheirStartAndEndAndSayWhatWentMissing) {
  const std::string quoted(100000, 'a');
  const std::string message = absl::StrCat("order_by: unknown ordering \"",
                                           quoted, "\"; use \"title\"");
  const std::string clipped = ClipStatusMessage(message);
  EXPECT_LE(clipped.size(), kMaxStatusMessageBytes);
  EXPECT_THAT(clipped,
              ::testing::StartsWith("order_by: unknown ordering \"aaa"));
  EXPECT_THAT(clipped, ::testing::EndsWith("aaa\"; use \"title\""));
  EXPECT_THAT(clipped, HasSubstr(" bytes left out)"));
}

TEST(ClipStatusMessageTest, CutsFallBetweenCodePoints) {
  // Three-byte code points from the first byte to the last: no cut can
  // fall on one's start by chance.
  std::string message;
  while (message.size() < 10 * kMaxStatusMessageBytes)
    message += "\xE2\x82\xAC";
  const std::string clipped = ClipStatusMessage(message);
  const size_t gap = clipped.find("...(");
  ASSERT_NE(gap, std::string::npos);
  EXPECT_EQ(gap % 3, 0u) << "the head ends inside a code point";
  const size_t tail = clipped.find(")...") + 4;
  EXPECT_EQ((clipped.size() - tail) % 3, 0u)
      << "the tail starts inside a code point";
  EXPECT_EQ(clipped.substr(tail, 3), "\xE2\x82\xAC");
}

TEST(ToGrpcStatusTest, AHugeRefusalIsAShortAnswer) {
  const std::string quoted(500000, 'a');
  grpc::Status status = ToGrpcStatus(InvalidField(
      "order_by", absl::StrCat("unknown ordering \"", quoted, "\"")));
  EXPECT_THAT(status, GrpcInvalidField("order_by", reason::kInvalidArgument));
  EXPECT_LE(status.error_message().size(), kMaxStatusMessageBytes);
  // The details repeat the message once, in the field violation.
  EXPECT_LE(status.error_details().size(), 3 * kMaxStatusMessageBytes);
}

TEST(ToGrpcStatusTest, InvalidArgumentWithoutFieldHasEmptyFieldViolation) {
  grpc::Status status = ToGrpcStatus(absl::InvalidArgumentError("bad"));
  EXPECT_THAT(status, GrpcInvalidField("", reason::kInvalidArgument));
}

TEST(ToGrpcStatusTest, InternalHidesItsMessage) {
  grpc::Status status = ToGrpcStatus(absl::InternalError(
      "SQL error near \"SELECT * FROM task\": syntax error"));
  EXPECT_THAT(status,
              GrpcErrorIs(grpc::StatusCode::INTERNAL, reason::kInternal));
  EXPECT_THAT(status.error_message(), Not(HasSubstr("SELECT")));
  EXPECT_THAT(ParseRpcErrorDetails(status).message, Not(HasSubstr("SELECT")));
  EXPECT_THAT(status.error_details(), Not(HasSubstr("SELECT")));
}

TEST(ToGrpcStatusTest, UnknownHidesItsMessage) {
  grpc::Status status = ToGrpcStatus(absl::UnknownError("stack trace here"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_THAT(status.error_message(), Not(HasSubstr("stack")));
}

}  // namespace
}  // namespace tasks::service
