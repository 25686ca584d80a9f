#ifndef TASKS_SERVICE_RECEIVED_REQUESTS_H_
#define TASKS_SERVICE_RECEIVED_REQUESTS_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace tasks::service {

// ReceivedRequests
//
// A generated service's AsyncService (`Generated` is the generated class,
// such as v1::TaskService), asked for calls whose request comes as received
// (a ByteBuffer), for the call to parse with ParseRequest. gRPC answers a
// request it cannot parse itself with INTERNAL "Unable to parse request",
// before any handler, log line or metric sees the call: the client's fault
// (invalid UTF-8 in a string field, truncated bytes, nesting past
// protobuf's limit) reported as the server's. Parsed by the call, it is the
// client's INVALID_ARGUMENT, logged and counted as any call. The methods and
// their registration stay the generated ones; an interceptor reading a
// received message (POST_RECV_MESSAGE) would find the ByteBuffer.
//
// Example:
//   ReceivedRequests<v1::TaskService> service;
//   service.RequestUnary(service.MethodIndex("GetTask"), &context,
//                        &received, &writer, queue, tag);
template <typename Generated>
class ReceivedRequests final : public Generated::AsyncService {
 public:
  // The index of method `name`, as the generated service numbers its
  // methods (their order in the proto); aborts on an unknown name.
  static int MethodIndex(absl::string_view name);

  template <typename Response>
  void RequestUnary(int method, grpc::ServerContext* context,
                    grpc::ByteBuffer* request,
                    grpc::ServerAsyncResponseWriter<Response>* writer,
                    grpc::ServerCompletionQueue* queue, void* tag) {
    this->RequestAsyncUnary(method, context, request, writer, queue, queue,
                            tag);
  }

  template <typename Message>
  void RequestServerStreaming(int method, grpc::ServerContext* context,
                              grpc::ByteBuffer* request,
                              grpc::ServerAsyncWriter<Message>* writer,
                              grpc::ServerCompletionQueue* queue, void* tag) {
    this->RequestAsyncServerStreaming(method, context, request, writer, queue,
                                      queue, tag);
  }
};

// The index of method `method` of service `service` (full name) in the
// generated descriptor pool; aborts when there is none.
int GeneratedMethodIndex(absl::string_view service, absl::string_view method);

template <typename Generated>
int ReceivedRequests<Generated>::MethodIndex(absl::string_view name) {
  return GeneratedMethodIndex(Generated::service_full_name(), name);
}

// Parses the request `received` (which it clears) into `request`.
// INVALID_ARGUMENT (reason INVALID_ARGUMENT) naming the message type when
// the bytes do not decode as one.
absl::Status ParseRequest(grpc::ByteBuffer& received,
                          google::protobuf::Message& request);

}  // namespace tasks::service

#endif  // TASKS_SERVICE_RECEIVED_REQUESTS_H_
