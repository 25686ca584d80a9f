#ifndef TASKS_BENCH_RAW_UNARY_SERVICE_H_
#define TASKS_BENCH_RAW_UNARY_SERVICE_H_

#include <deque>
#include <string>
#include <vector>

#include "grpcpp/completion_queue.h"
#include "grpcpp/impl/service_type.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/async_unary_call.h"
#include "grpcpp/support/byte_buffer.h"

namespace tasks::bench {

// RawUnaryService
//
// Unary methods by full path ("/pkg.Service/Method"), served through the
// async completion-queue API with requests and responses left as raw bytes:
// what generated `WithRawMethod_*` services do, for any set of methods and
// without parsing or serializing anything.
class RawUnaryService final : public grpc::Service {
 public:
  explicit RawUnaryService(const std::vector<std::string>& method_paths);

  // Asks for the next call of method number `index` (its position in
  // `method_paths`); `tag` comes out of `cq` when one arrives.
  void RequestCall(int index, grpc::ServerContext* context,
                   grpc::ByteBuffer* request,
                   grpc::ServerAsyncResponseWriter<grpc::ByteBuffer>* writer,
                   grpc::ServerCompletionQueue* cq, void* tag);

 private:
  // RpcServiceMethod keeps a pointer to its name.
  std::deque<std::string> paths_;
};

}  // namespace tasks::bench

#endif  // TASKS_BENCH_RAW_UNARY_SERVICE_H_
