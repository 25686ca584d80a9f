// The RPC baseline: answers GetTask, ListTasks, CreateTask, UpdateTask and
// grpc.health.v1.Health/Check with pre-serialized responses of the real
// service's size, on one thread with one completion queue (the fastest
// server model on a small machine). Exits (status 0) at once on SIGINT or
// SIGTERM: it holds no state worth a graceful shutdown.
//
//   noop_server --listen=localhost:50052
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "bench/bench_process.h"
#include "bench/raw_unary_service.h"
#include "bench/workload.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"

ABSL_FLAG(std::string, listen, "localhost:50052", "Address to serve on.");
ABSL_FLAG(int, calls_per_method, 128,
          "Calls of each method the server is ready to accept at once.");

namespace tasks::bench {
namespace {

// One call of one method, from arrival to the sent response; then it waits
// for the next call of the same method.
class CallHandler {
 public:
  CallHandler(RawUnaryService& service, grpc::ServerCompletionQueue& cq,
              int method_index, const grpc::ByteBuffer& response)
      : service_(service),
        cq_(cq),
        method_index_(method_index),
        response_(response) {
    AwaitCall();
  }

  // Called with each event of this handler's tag.
  void Proceed(bool ok) {
    if (!ok) return;  // Shutting down.
    if (!answered_) {
      answered_ = true;
      writer_->Finish(response_, grpc::Status::OK, this);
    } else {
      AwaitCall();
    }
  }

 private:
  void AwaitCall() {
    answered_ = false;
    context_ = std::make_unique<grpc::ServerContext>();
    writer_ = std::make_unique<grpc::ServerAsyncResponseWriter<grpc::ByteBuffer>>(
        context_.get());
    service_.RequestCall(method_index_, context_.get(), &request_,
                         writer_.get(), &cq_, this);
  }

  RawUnaryService& service_;
  grpc::ServerCompletionQueue& cq_;
  const int method_index_;
  const grpc::ByteBuffer& response_;
  std::unique_ptr<grpc::ServerContext> context_;
  std::unique_ptr<grpc::ServerAsyncResponseWriter<grpc::ByteBuffer>> writer_;
  grpc::ByteBuffer request_;
  bool answered_ = false;
};

int Serve(const std::string& address, int calls_per_method) {
  // Blocked here, before gRPC starts threads, so that only the waiter below
  // takes them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::vector<std::string> paths;
  std::vector<grpc::ByteBuffer> responses;
  for (Method method : kAllMethods) {
    paths.push_back(MethodPath(method));
    const std::string bytes = SampleResponseBytes(method);
    grpc::Slice slice(bytes);
    responses.emplace_back(&slice, 1);
  }
  RawUnaryService service(paths);

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::ServerCompletionQueue> cq = builder.AddCompletionQueue();
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "noop_server: cannot listen on %s\n", address.c_str());
    return 1;
  }

  std::vector<std::unique_ptr<CallHandler>> handlers;
  for (size_t m = 0; m < paths.size(); ++m) {
    for (int i = 0; i < calls_per_method; ++i) {
      handlers.push_back(std::make_unique<CallHandler>(
          service, *cq, static_cast<int>(m), responses[m]));
    }
  }
  std::printf("noop_server listening on %s\n", address.c_str());
  std::fflush(stdout);

  std::thread([&stop_signals] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    std::_Exit(0);
  }).detach();
  void* tag;
  bool ok;
  while (cq->Next(&tag, &ok)) static_cast<CallHandler*>(tag)->Proceed(ok);
  return 0;
}

}  // namespace
}  // namespace tasks::bench

int main(int argc, char** argv) {
  tasks::bench::InitBenchProcess(argc, argv);
  return tasks::bench::Serve(absl::GetFlag(FLAGS_listen),
                             absl::GetFlag(FLAGS_calls_per_method));
}
