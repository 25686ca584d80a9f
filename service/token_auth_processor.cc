#include "service/token_auth_processor.h"

#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "service/logging.h"

namespace tasks::service {
namespace {

// The methods that need a token: every one of tasks.v1.TaskService.
constexpr absl::string_view kGuardedPrefix = "/tasks.v1.TaskService/";

}  // namespace

TokenAuthProcessor::TokenAuthProcessor(std::shared_ptr<const TokenTable> tokens,
                                       ServerMetrics* metrics)
    : tokens_(std::move(tokens)), metrics_(metrics) {}

grpc::Status TokenAuthProcessor::Process(
    const InputMetadata& auth_metadata, grpc::AuthContext* /*context*/,
    OutputMetadata* /*consumed_auth_metadata*/,
    OutputMetadata* /*response_metadata*/) {
  auto path = auth_metadata.find(":path");
  if (path == auth_metadata.end()) return grpc::Status::OK;  // No call.
  const absl::string_view method(path->second.data(), path->second.size());
  if (!absl::StartsWith(method, kGuardedPrefix)) return grpc::Status::OK;
  absl::StatusOr<const Principal*> principal =
      tokens_->Authenticate(auth_metadata);
  if (principal.ok()) return grpc::Status::OK;
  if (metrics_ != nullptr) metrics_->CountUnauthenticatedRefusal();
  // The path is the client's text; Log() escapes its control characters.
  Log(LogLevel::kInfo,
      absl::StrCat(method,
                   " UNAUTHENTICATED principal=- (refused before its "
                   "message was read): ",
                   principal.status().message()));
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      std::string(principal.status().message()));
}

}  // namespace tasks::service
