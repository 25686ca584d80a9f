#ifndef TASKS_TESTS_TESTING_UNARY_CALL_H_
#define TASKS_TESTS_TESTING_UNARY_CALL_H_

#include <future>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace tasks::testing {

// Calls the unary RPC `method` on `stub` with a deadline `timeout` from now
// and, unless `bearer_token` is empty, an "authorization: Bearer" header.
// The response goes to `response`, or is discarded when that is null.
template <typename Stub, typename Request, typename Response>
grpc::Status CallUnary(Stub& stub,
                       grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                    const Request&, Response*),
                       const Request& request, Response* response,
                       absl::Duration timeout,
                       const std::string& bearer_token = "") {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  if (!bearer_token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", bearer_token));
  }
  Response discarded;
  return (stub.*method)(&context, request,
                        response != nullptr ? response : &discarded);
}

// Calls the unary RPC named `method` ("/tasks.v1.TaskService/GetTask") on
// `channel` with `bytes` as the serialized request, as a client with another
// (or no) protobuf library could; `context` carries the deadline and
// metadata. The serialized response goes to `response` unless it is null.
inline grpc::Status CallRawUnary(const std::shared_ptr<grpc::Channel>& channel,
                                 grpc::ClientContext* context,
                                 const std::string& method,
                                 const std::string& bytes,
                                 grpc::ByteBuffer* response = nullptr) {
  grpc::GenericStub generic(channel);
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer discarded;
  std::promise<grpc::Status> done;
  generic.UnaryCall(
      context, method, grpc::StubOptions(), &request,
      response != nullptr ? response : &discarded,
      [&done](grpc::Status status) { done.set_value(std::move(status)); });
  return done.get_future().get();
}

}  // namespace tasks::testing

#endif  // TASKS_TESTS_TESTING_UNARY_CALL_H_
