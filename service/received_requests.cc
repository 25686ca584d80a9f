#include "service/received_requests.h"

#include <grpcpp/impl/codegen/proto_utils.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "google/protobuf/descriptor.h"

namespace tasks::service {

int GeneratedMethodIndex(absl::string_view service, absl::string_view method) {
  const google::protobuf::ServiceDescriptor* found =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          std::string(service));
  const google::protobuf::MethodDescriptor* found_method =
      found == nullptr ? nullptr : found->FindMethodByName(std::string(method));
  if (found_method == nullptr) {
    std::fprintf(stderr, "no method %.*s/%.*s\n",
                 static_cast<int>(service.size()), service.data(),
                 static_cast<int>(method.size()), method.data());
    std::abort();
  }
  return found_method->index();
}

absl::Status ParseRequest(grpc::ByteBuffer& received,
                          google::protobuf::Message& request) {
  // As gRPC would have parsed it, the buffer cleared likewise.
  if (grpc::GenericDeserialize<grpc::ProtoBufferReader,
                               google::protobuf::Message>(&received, &request)
          .ok()) {
    return absl::OkStatus();
  }
  return WithReason(
      absl::InvalidArgumentError(absl::StrCat(
          "the request does not decode as ", request.GetTypeName(),
          ": invalid UTF-8 in a string field, truncated bytes, or messages "
          "nested too deep")),
      reason::kInvalidArgument);
}

}  // namespace tasks::service
