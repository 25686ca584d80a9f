#ifndef TASKS_SERVICE_CALL_LOG_INTERCEPTOR_H_
#define TASKS_SERVICE_CALL_LOG_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include "service/auth.h"

namespace tasks::service {

// CallLogInterceptorFactory
//
// Logs one line per call, at info level, when its status is sent (a call
// starting while info logging is off gets no interceptor at all): method,
// status code, latency and, for errors, the message the client gets, e.g.
//   I ... /tasks.v1.TaskService/GetTask OK 0.412ms
//   I ... /tasks.v1.TaskService/GetTask NOT_FOUND 0.318ms: no task with id 7
// (ToGrpcStatus logs the hidden detail of INTERNAL errors at error level.)
// A stream that ends without a status (its client cancelled or went away, as
// a WatchTasks client stopping does) is logged when it is freed, as
// CANCELLED.
// With a TokenTable, the line names the caller's principal (never its token):
//   I ... /tasks.v1.TaskService/GetTask OK 0.412ms principal=blue
//   I ... /tasks.v1.TaskService/GetTask UNAUTHENTICATED 0.05ms principal=-
// In LogFormat::kJson the line is an object with the method, code,
// latency_ms, peer, principal (with a TokenTable), request_id (RequestIdOf,
// when the client sent a valid one) and, for errors, error:
//   {"time":"...","level":"info","message":"call",
//    "method":"/tasks.v1.TaskService/GetTask","code":"NOT_FOUND",
//    "latency_ms":0.318,"peer":"ipv4:127.0.0.1:41234","request_id":"a1b2",
//    "error":"no task with id 7"}
//
// Example:
//   std::vector<std::unique_ptr<
//       grpc::experimental::ServerInterceptorFactoryInterface>> factories;
//   factories.push_back(std::make_unique<CallLogInterceptorFactory>());
//   builder.experimental().SetInterceptorCreators(std::move(factories));
class CallLogInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `tokens`, when not null, must outlive the factory.
  explicit CallLogInterceptorFactory(const TokenTable* tokens = nullptr)
      : tokens_(tokens) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  const TokenTable* const tokens_;
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_CALL_LOG_INTERCEPTOR_H_
