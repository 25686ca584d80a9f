#include "common/error_reason.h"

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace tasks {
namespace {

constexpr char kReasonUrl[] = "type.tasks.v1/error_reason";
constexpr char kFieldUrl[] = "type.tasks.v1/error_field";
constexpr char kOperatorDetailUrl[] = "type.tasks.v1/operator_detail";

std::optional<std::string> Payload(const absl::Status& status,
                                   absl::string_view url) {
  absl::optional<absl::Cord> payload = status.GetPayload(url);
  if (!payload.has_value()) return std::nullopt;
  return std::string(*payload);
}

}  // namespace

absl::Status WithReason(absl::Status status, absl::string_view reason) {
  if (!status.ok()) status.SetPayload(kReasonUrl, absl::Cord(reason));
  return status;
}

absl::Status WithField(absl::Status status, absl::string_view field) {
  if (!status.ok()) status.SetPayload(kFieldUrl, absl::Cord(field));
  return status;
}

absl::Status WithOperatorDetail(absl::Status status, absl::string_view detail) {
  if (!status.ok()) status.SetPayload(kOperatorDetailUrl, absl::Cord(detail));
  return status;
}

absl::Status InvalidField(absl::string_view field,
                          absl::string_view description,
                          absl::string_view reason) {
  absl::Status status = WithReason(
      absl::InvalidArgumentError(absl::StrCat(field, ": ", description)),
      reason);
  return WithField(std::move(status), field);
}

std::optional<std::string> ErrorReason(const absl::Status& status) {
  return Payload(status, kReasonUrl);
}

std::optional<std::string> ErrorField(const absl::Status& status) {
  return Payload(status, kFieldUrl);
}

std::optional<std::string> OperatorDetail(const absl::Status& status) {
  return Payload(status, kOperatorDetailUrl);
}

}  // namespace tasks
