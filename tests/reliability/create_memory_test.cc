// CreateTask cannot take the server's memory: a thousand of the heaviest
// creates the caps allow in flight at once (40 KB descriptions, metadata
// that parses into ~200 KB) keep the server's peak RSS (VmHWM) within the
// memory target. The server refuses what it has no room for with
// RESOURCE_EXHAUSTED, and every create it acknowledged is stored.

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/create_load.h"
#include "tests/reliability/database_checks.h"
#include "tests/reliability/process_memory.h"
#include "tests/reliability/reliability_test_base.h"
#include "tests/reliability/worst_task.h"

namespace tasks::reliability {
namespace {

// The memory target of the issue: a server's peak RSS, whatever clients ask.
constexpr int64_t kPeakRssLimitKib = 256 * 1024;

constexpr int kChannels = 4;
// 1,024 in flight: far more than --max_threads (128), the workers' bound.
constexpr int kInFlightPerChannel = 256;
constexpr int kCallsPerSlot = 4;  // each slot's creates, one after another
constexpr absl::Duration kCallDeadline = absl::Seconds(60);

using CreateMemoryTest = ReliabilityTest;

std::string Mib(int64_t kib) { return absl::StrCat(kib / 1024, " MiB"); }

// One call in flight at a time: its next create starts from the last one's
// callback.
class CreateSlot {
 public:
  CreateSlot(v1::TaskService::Stub& stub, int64_t project_id, int index,
             absl::BlockingCounter& finished, absl::Mutex& mu,
             std::vector<CreateOutcome>& outcomes)
      : stub_(stub),
        index_(index),
        finished_(finished),
        mu_(mu),
        outcomes_(outcomes) {
    v1::Task* task = request_.mutable_task();
    task->set_project_id(project_id);
    SetWorstDescription(task);
    SetWorstMetadata(task->mutable_metadata());
  }

  void SendNext() {
    request_.mutable_task()->set_title(
        absl::StrCat("heavy-", index_, "-", sent_));
    ++sent_;
    context_ = std::make_unique<grpc::ClientContext>();
    start_ = absl::Now();
    context_->set_deadline(absl::ToChronoTime(start_ + kCallDeadline));
    stub_.async()->CreateTask(context_.get(), &request_, &reply_,
                              [this](grpc::Status status) { Done(status); });
  }

 private:
  void Done(const grpc::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      outcomes_.push_back(
          {start_, absl::Now(), status.error_code(), status.error_message()});
    }
    if (sent_ < kCallsPerSlot) return SendNext();
    finished_.DecrementCount();
  }

  v1::TaskService::Stub& stub_;
  const int index_;
  absl::BlockingCounter& finished_;
  absl::Mutex& mu_;
  std::vector<CreateOutcome>& outcomes_;
  v1::CreateTaskRequest request_;
  v1::Task reply_;
  std::unique_ptr<grpc::ClientContext> context_;
  absl::Time start_;
  int sent_ = 0;
};

TEST_P(CreateMemoryTest, AThousandHeaviestCreatesInFlightStayWithinTarget) {
  TaskServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  std::vector<std::unique_ptr<v1::TaskService::Stub>> stubs;
  for (int i = 0; i < kChannels; ++i) {
    stubs.push_back(v1::TaskService::NewStub(server->NewChannel()));
  }
  const int64_t project_id = CreateProject(*stubs[0], "heavy");
  ASSERT_NE(project_id, 0);
  const int64_t before_kib = ProcStatusKib(server->pid(), "VmHWM");
  ASSERT_GT(before_kib, 0);

  absl::Mutex mu;
  std::vector<CreateOutcome> outcomes;
  absl::BlockingCounter finished(kChannels * kInFlightPerChannel);
  std::vector<std::unique_ptr<CreateSlot>> slots;
  for (int i = 0; i < kChannels * kInFlightPerChannel; ++i) {
    slots.push_back(std::make_unique<CreateSlot>(
        *stubs[i % kChannels], project_id, i, finished, mu, outcomes));
  }
  const absl::Time start = absl::Now();
  for (auto& slot : slots) slot->SendNext();
  finished.Wait();
  const absl::Duration took = absl::Now() - start;
  const int64_t peak_kib = ProcStatusKib(server->pid(), "VmHWM");

  const OutcomeSummary summary = Summarize(outcomes, kCallDeadline);
  EXPECT_EQ(UnexpectedCodes(summary, {grpc::StatusCode::OK,
                                      grpc::StatusCode::RESOURCE_EXHAUSTED}),
            "");
  EXPECT_GT(summary.count(grpc::StatusCode::OK), 0);
  absl::StatusOr<int64_t> stored =
      CountRows(backend(), database(),
                absl::StrCat("SELECT count(*) FROM tasks WHERE project_id = ",
                             project_id));
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(*stored, summary.count(grpc::StatusCode::OK));
  EXPECT_TRUE(server->Running()) << server->LogTail();

  ReportFigure(absl::StrCat(
      kChannels * kInFlightPerChannel, " creates in flight x ", kCallsPerSlot,
      " (40 KB description, 1,000-value metadata each): ", CodeCounts(summary),
      ", stored ", *stored, ", peak RSS ", Mib(before_kib), " before -> ",
      Mib(peak_kib), " (limit ", Mib(kPeakRssLimitKib), "), ", Millis(took)));
  EXPECT_LE(peak_kib, kPeakRssLimitKib);
}

INSTANTIATE_RELIABILITY_TEST_SUITE(CreateMemoryTest);

}  // namespace
}  // namespace tasks::reliability
