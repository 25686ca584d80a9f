#ifndef TASKS_TESTS_TESTING_UNARY_CALL_H_
#define TASKS_TESTS_TESTING_UNARY_CALL_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
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

}  // namespace tasks::testing

#endif  // TASKS_TESTS_TESTING_UNARY_CALL_H_
