#include "bench/raw_unary_service.h"

#include "grpcpp/impl/rpc_method.h"
#include "grpcpp/impl/rpc_service_method.h"

namespace tasks::bench {

RawUnaryService::RawUnaryService(const std::vector<std::string>& method_paths) {
  for (const std::string& path : method_paths) {
    paths_.push_back(path);
    AddMethod(new grpc::internal::RpcServiceMethod(
        paths_.back().c_str(), grpc::internal::RpcMethod::NORMAL_RPC,
        /*handler=*/nullptr));
    MarkMethodRaw(static_cast<int>(paths_.size()) - 1);
  }
}

void RawUnaryService::RequestCall(
    int index, grpc::ServerContext* context, grpc::ByteBuffer* request,
    grpc::ServerAsyncResponseWriter<grpc::ByteBuffer>* writer,
    grpc::ServerCompletionQueue* cq, void* tag) {
  RequestAsyncUnary(index, context, request, writer, cq, cq, tag);
}

}  // namespace tasks::bench
