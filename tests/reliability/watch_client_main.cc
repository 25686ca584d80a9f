// A WatchTasks client in a process of its own, for tests of what the server
// does when a client vanishes: it opens --count streams from the present
// at once (each established: its response headers arrived; the test checks
// the server counts them all open), prints "ready", and then holds them
// until it is killed.
//
//   watch_client --target=127.0.0.1:50051 --count=200
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "tasks/v1/tasks.grpc.pb.h"

ABSL_FLAG(std::string, target, "", "The task_server's address.");
ABSL_FLAG(int, count, 100, "WatchTasks streams to open.");
ABSL_FLAG(std::string, filter, "", "Their filter.");

namespace tasks::reliability {
namespace {

struct Stream {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientAsyncReader<v1::TaskEvent>> reader;
  bool called = false;  // StartCall completed
};

int Run() {
  const int count = absl::GetFlag(FLAGS_count);
  auto stub = v1::TaskService::NewStub(grpc::CreateChannel(
      absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials()));
  grpc::CompletionQueue queue;
  v1::WatchTasksRequest request;
  request.set_filter(absl::GetFlag(FLAGS_filter));
  // All at once, as clients reconnecting after a restart would: the test
  // checks that the server holds every one open.
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < count; ++i) {
    auto stream = std::make_unique<Stream>();
    stream->context.set_wait_for_ready(true);
    stream->reader =
        stub->PrepareAsyncWatchTasks(&stream->context, request, &queue);
    stream->reader->StartCall(stream.get());
    streams.push_back(std::move(stream));
  }
  // Each stream's call, then its headers (which a stream refused at once
  // gets too, with its status: the server's count tells them apart).
  const auto deadline = absl::ToChronoTime(absl::Now() + absl::Seconds(30));
  for (int step = 0; step < 2 * count; ++step) {
    void* tag = nullptr;
    bool ok = false;
    if (queue.AsyncNext(&tag, &ok, deadline) !=
            grpc::CompletionQueue::GOT_EVENT ||
        !ok) {
      std::fprintf(stderr, "watch_client: a stream did not start\n");
      return 1;
    }
    Stream& stream = *static_cast<Stream*>(tag);
    if (!stream.called) {
      stream.called = true;
      stream.reader->ReadInitialMetadata(&stream);
    }
  }
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) pause();  // Until killed.
}

}  // namespace
}  // namespace tasks::reliability

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return tasks::reliability::Run();
}
