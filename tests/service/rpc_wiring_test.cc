// Every method of tasks.v1.TaskService, as its descriptor lists them, is
// wired through the real server: called with an empty request, each answers
// within a short deadline with some status other than UNIMPLEMENTED. A
// method without a TaskServiceImpl override answers UNIMPLEMENTED; one whose
// calls are never awaited (no `methods.push_back` in async_task_service.cc)
// leaves its calls waiting until their deadline.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "tasks/v1/tasks.grpc.pb.h"
#include "tests/service/service_test_fixture.h"
#include "tests/testing/figure.h"

namespace tasks::service {
namespace {

// A wired method answers an empty request in milliseconds; this leaves room
// for a loaded machine while keeping a hung method's cost small (all calls
// run at once).
constexpr absl::Duration kDeadline = absl::Seconds(5);

// How one call went.
struct Outcome {
  grpc::Status status;
  bool got_message = false;  // the server sent a response message
  bool got_headers = false;  // a stream's response headers arrived
  absl::Duration elapsed;
};

// Calls `method` ("/tasks.v1.TaskService/GetTask") on `channel` with one
// empty request message, whatever its kind: unary and client-streaming
// methods answer once the client half-closes; a `server_streaming` one
// counts as answering with its response headers, after which the call is
// cancelled.
Outcome CallWithEmptyRequest(const std::shared_ptr<grpc::Channel>& channel,
                             const std::string& method, bool server_streaming) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kDeadline));
  // One operation at a time, so its tag is the only one the queue returns.
  auto await = [&queue] {
    void* tag = nullptr;
    bool ok = false;
    return queue.Next(&tag, &ok) && ok;
  };
  const absl::Time start = absl::Now();
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&context, method, &queue);
  call->StartCall(nullptr);
  bool ok = await();
  if (ok) {
    grpc::Slice empty("");
    grpc::ByteBuffer request(&empty, 1);
    call->WriteLast(request, grpc::WriteOptions(), nullptr);
    ok = await();
  }
  Outcome outcome;
  if (ok && server_streaming) {
    // A stream may have nothing to send yet (WatchTasks without changes):
    // its response headers show that the server took the call.
    call->ReadInitialMetadata(nullptr);
    outcome.got_headers = await();
    if (outcome.got_headers) context.TryCancel();
  } else if (ok) {
    grpc::ByteBuffer response;
    call->Read(&response, nullptr);
    outcome.got_message = await();
  }
  call->Finish(&outcome.status, nullptr);
  await();
  outcome.elapsed = absl::Now() - start;
  queue.Shutdown();
  void* tag = nullptr;
  bool drained = false;
  while (queue.Next(&tag, &drained)) {
  }
  return outcome;
}

std::string CodeName(const grpc::Status& status) {
  return absl::StatusCodeToString(
      static_cast<absl::StatusCode>(status.error_code()));
}

class RpcWiringTest : public TaskServerTest<> {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(StartInMemoryServer()); }
};

TEST_F(RpcWiringTest, EveryTaskServiceMethodAnswersWithoutUnimplemented) {
  const google::protobuf::ServiceDescriptor* service =
      v1::Task::descriptor()->file()->pool()->FindServiceByName(
          v1::TaskService::service_full_name());
  ASSERT_NE(service, nullptr) << v1::TaskService::service_full_name();
  ASSERT_GT(service->method_count(), 0);

  std::vector<std::string> paths;
  for (int i = 0; i < service->method_count(); ++i) {
    paths.push_back(absl::StrCat("/", service->full_name(), "/",
                                 service->method(i)->name()));
  }
  // All at once: the test takes one deadline however many methods hang.
  std::vector<Outcome> outcomes(paths.size());
  std::vector<std::thread> callers;
  for (size_t i = 0; i < paths.size(); ++i) {
    callers.emplace_back([this, service, &paths, &outcomes, i] {
      outcomes[i] = CallWithEmptyRequest(
          channel_, paths[i], service->method(i)->server_streaming());
    });
  }
  for (std::thread& caller : callers) caller.join();

  std::vector<std::string> figures;
  for (size_t i = 0; i < paths.size(); ++i) {
    const Outcome& outcome = outcomes[i];
    const grpc::StatusCode code = outcome.status.error_code();
    figures.push_back(
        absl::StrCat(service->method(i)->name(), " ", CodeName(outcome.status),
                     outcome.got_message   ? " with a message "
                     : outcome.got_headers ? " with headers "
                                           : " ",
                     absl::ToInt64Milliseconds(outcome.elapsed), "ms"));
    EXPECT_NE(code, grpc::StatusCode::UNIMPLEMENTED)
        << paths[i]
        << " answers UNIMPLEMENTED: TaskServiceImpl does not override it. "
        << outcome.status.error_message();
    EXPECT_NE(code, grpc::StatusCode::DEADLINE_EXCEEDED)
        << paths[i] << " did not answer within "
        << absl::FormatDuration(kDeadline)
        << ": is it registered (methods.push_back in "
           "service/async_task_service.cc)? "
        << outcome.status.error_message();
  }
  ::tasks::testing::ReportFigure(
      absl::StrCat(paths.size(), " methods: ", absl::StrJoin(figures, ", ")));
}

}  // namespace
}  // namespace tasks::service
