#include "service/status_util.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "service/logging.h"

namespace tasks::service {
namespace {

constexpr char kGenericInternalMessage[] = "internal error";

std::string DefaultReason(absl::StatusCode code) {
  if (code == absl::StatusCode::kUnavailable) {
    return reason::kDatabaseUnavailable;
  }
  return absl::StatusCodeToString(code);
}

bool HidesDetail(absl::StatusCode code) {
  return code == absl::StatusCode::kInternal ||
         code == absl::StatusCode::kUnknown;
}

// `text` cut back to a UTF-8 code point's start at or before `size`.
size_t CodePointStart(absl::string_view text, size_t size) {
  while (size > 0 && size < text.size() &&
         (static_cast<unsigned char>(text[size]) & 0xC0) == 0x80) {
    --size;
  }
  return size;
}

// The operator detail of a status the client gets without it (see
// WithOperatorDetail), logged at most once a second: an outage fails every
// call with the same one.
void LogOperatorDetail(const absl::Status& status) {
  std::optional<std::string> detail = OperatorDetail(status);
  if (!detail.has_value() || !LogEnabled(LogLevel::kWarning)) return;
  // The steady clock: a wall clock stepped back would silence the lines.
  static std::atomic<int64_t> next_line_ns{0};
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t next = next_line_ns.load(std::memory_order_relaxed);
  if (now < next || !next_line_ns.compare_exchange_strong(
                        next, now + absl::ToInt64Nanoseconds(absl::Seconds(1)),
                        std::memory_order_relaxed)) {
    return;
  }
  Log(LogLevel::kWarning, absl::StrCat(absl::StatusCodeToString(status.code()),
                                       " ", status.message(), ": ", *detail));
}

}  // namespace

std::string ClipStatusMessage(absl::string_view message) {
  if (message.size() <= kMaxStatusMessageBytes) return std::string(message);
  // The head names the field and quotes the start of the value; the tail
  // keeps what follows the quote (the accepted values, say).
  constexpr size_t kHead = kMaxStatusMessageBytes * 5 / 8;
  constexpr size_t kTail = kMaxStatusMessageBytes / 4;
  const size_t head = CodePointStart(message, kHead);
  const size_t tail = CodePointStart(message, message.size() - kTail);
  return absl::StrCat(message.substr(0, head), "...(", tail - head,
                      " bytes left out)...", message.substr(tail));
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;

  // A refusal may quote what the client sent (a 1 MB order_by): bounded,
  // as are the trailers and the call's log line that carry it.
  std::string message = ClipStatusMessage(status.message());
  LogOperatorDetail(status);
  if (HidesDetail(status.code())) {
    Log(LogLevel::kError, absl::StrCat("internal error: ", status.ToString()));
    message = kGenericInternalMessage;
  }

  google::rpc::Status rpc_status;
  rpc_status.set_code(static_cast<int>(status.code()));
  rpc_status.set_message(message);

  google::rpc::ErrorInfo info;
  info.set_reason(ErrorReason(status).value_or(DefaultReason(status.code())));
  info.set_domain(kErrorDomain);
  rpc_status.add_details()->PackFrom(info);

  if (status.code() == absl::StatusCode::kInvalidArgument) {
    google::rpc::BadRequest bad_request;
    google::rpc::BadRequest::FieldViolation* violation =
        bad_request.add_field_violations();
    violation->set_field(ClipStatusMessage(ErrorField(status).value_or("")));
    violation->set_description(message);
    rpc_status.add_details()->PackFrom(bad_request);
  }

  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message,
                      rpc_status.SerializeAsString());
}

}  // namespace tasks::service
