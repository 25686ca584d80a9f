#include "service/request_id.h"

#include <string>

#include "absl/strings/ascii.h"

namespace tasks::service {
namespace {

bool IsRequestIdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("-._:/+=").find(c) != absl::string_view::npos;
}

}  // namespace

absl::string_view RequestIdOf(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto found = metadata.find(kRequestIdKey);
  if (found == metadata.end()) return {};
  const absl::string_view id(found->second.data(), found->second.size());
  if (id.empty() || id.size() > kMaxRequestIdLength) return {};
  for (char c : id) {
    if (!IsRequestIdChar(c)) return {};
  }
  return id;
}

void EchoRequestId(grpc::ServerContextBase& context) {
  const absl::string_view id = RequestIdOf(context);
  if (!id.empty()) context.AddInitialMetadata(kRequestIdKey, std::string(id));
}

}  // namespace tasks::service
