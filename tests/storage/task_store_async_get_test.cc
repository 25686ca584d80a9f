// TryGetTaskAsync: GetTask answered on the store's own thread (PostgreSQL's
// pipelined reader), with the same answers as GetTask; SQLite has no such
// path and declines every call.

#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/storage/task_store_fixture.h"
#include "tests/testing/proto_matchers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::EqualsProto;
using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::ReasonIs;
using ::tasks::testing::StatusIs;
using ::tasks::testing::StoreBackend;
using ::tasks::testing::TaskBuilder;
using Code = ::absl::StatusCode;

// How long the reader may take to open its connections after its first use.
constexpr absl::Duration kReaderStart = absl::Seconds(10);

// The answer of one TryGetTaskAsync, once it comes.
class Answer {
 public:
  TaskStore::TaskCallback Callback() {
    return [this](absl::StatusOr<v1::Task> task) {
      result_ = std::move(task);
      done_.Notify();
    };
  }
  absl::StatusOr<v1::Task> Wait() {
    EXPECT_TRUE(done_.WaitForNotificationWithTimeout(absl::Seconds(30)));
    return done_.HasBeenNotified() ? result_ : absl::InternalError("no answer");
  }

 private:
  absl::Notification done_;
  absl::StatusOr<v1::Task> result_;
};

class AsyncGetTaskTest : public TaskStoreTest {
 protected:
  bool HasAsyncReads() const { return backend() != StoreBackend::kSqlite; }

  // The answer of TryGetTaskAsync, retried until the store takes the call
  // (its reader connects on first use); nullopt when it never does.
  std::optional<absl::StatusOr<v1::Task>> GetAsync(
      int64_t id, const AccessScope& scope,
      absl::Time deadline = absl::InfiniteFuture()) {
    // SQLite declines at once, every time: one try says so.
    const absl::Time give_up =
        absl::Now() + (HasAsyncReads() ? kReaderStart : absl::ZeroDuration());
    do {
      Answer answer;
      if (store().TryGetTaskAsync(id, scope, deadline, answer.Callback())) {
        return answer.Wait();
      }
      absl::SleepFor(absl::Milliseconds(10));
    } while (absl::Now() < give_up);
    return std::nullopt;
  }
};

TEST_P(AsyncGetTaskTest, AnswersAsGetTaskDoes) {
  ASSERT_OK_AND_ASSIGN(v1::Project mine, CreateProject("Mine"));
  ASSERT_OK_AND_ASSIGN(v1::Project theirs, CreateProject("Theirs"));
  ASSERT_OK_AND_ASSIGN(
      v1::Task task,
      CreateTask(TaskBuilder("read me").InProject(mine.id()).Build()));
  std::optional<absl::StatusOr<v1::Task>> read = GetAsync(task.id(), kEveryRow);
  if (!HasAsyncReads()) {
    EXPECT_FALSE(read.has_value()) << "SQLite has no asynchronous reads";
    return;
  }
  ASSERT_TRUE(read.has_value()) << "the store never took an async read";
  EXPECT_THAT(*read, IsOkAndHolds(EqualsProto(task)));
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(task)));
  // Missing, and outside the caller's projects: the same NOT_FOUND.
  EXPECT_THAT(*GetAsync(task.id() + 1000, kEveryRow),
              ReasonIs(reason::kTaskNotFound));
  EXPECT_THAT(*GetAsync(task.id(), AccessScope::Projects({theirs.id()})),
              ReasonIs(reason::kTaskNotFound));
  EXPECT_THAT(*GetAsync(task.id(), AccessScope::Projects({})),
              ReasonIs(reason::kTaskNotFound));
  EXPECT_THAT(*GetAsync(task.id(), AccessScope::Projects({theirs.id(),
                                                          mine.id()})),
              IsOkAndHolds(EqualsProto(task)));
}

TEST_P(AsyncGetTaskTest, PastDeadlineIsDeadlineExceeded) {
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("late")));
  // Connected first: a declined call says nothing about deadlines.
  ASSERT_EQ(GetAsync(task.id(), kEveryRow).has_value(), HasAsyncReads());
  std::optional<absl::StatusOr<v1::Task>> late =
      GetAsync(task.id(), kEveryRow, absl::Now() - absl::Seconds(1));
  ASSERT_EQ(late.has_value(), HasAsyncReads());
  if (!late.has_value()) return;
  EXPECT_THAT(*late, StatusIs(Code::kDeadlineExceeded));
  EXPECT_THAT(*late, ReasonIs(reason::kDeadlineExceeded));
}

// Many reads at once from several threads, batched together: each gets its
// own task, none another's.
TEST_P(AsyncGetTaskTest, ConcurrentReadsEachGetTheirOwnRow) {
  std::vector<v1::Task> tasks;
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(v1::Task task,
                         CreateTask(TaskBuilder(absl::StrCat("t", i))));
    tasks.push_back(task);
  }
  ASSERT_EQ(GetAsync(tasks[0].id(), kEveryRow).has_value(), HasAsyncReads());
  constexpr int kThreads = 4;
  constexpr int kReadsPerThread = 500;
  std::atomic<int> wrong{0}, failed{0}, declined{0};
  absl::Mutex mu;
  int answered = 0;
  RunThreads(kThreads, [&](int thread) {
    for (int i = 0; i < kReadsPerThread; ++i) {
      const v1::Task& want = tasks[(thread * 7 + i) % tasks.size()];
      const bool taken = store().TryGetTaskAsync(
          want.id(), kEveryRow, absl::InfiniteFuture(),
          [&, id = want.id(), title = want.title()](
              absl::StatusOr<v1::Task> got) {
            if (!got.ok()) {
              ++failed;
            } else if (got->id() != id || got->title() != title) {
              ++wrong;
            }
            absl::MutexLock lock(&mu);
            ++answered;
          });
      if (!taken) {
        ++declined;
        absl::MutexLock lock(&mu);
        ++answered;
      }
    }
  });
  absl::MutexLock lock(&mu);
  ASSERT_TRUE(mu.AwaitWithTimeout(
      absl::Condition(
          +[](int* n) { return *n == kThreads * kReadsPerThread; }, &answered),
      absl::Seconds(30)));
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(declined.load(), HasAsyncReads() ? 0 : kThreads * kReadsPerThread);
}

TEST_P(AsyncGetTaskTest, CancelCallsDeclinesLaterReads) {
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("cancelled")));
  ASSERT_EQ(GetAsync(task.id(), kEveryRow).has_value(), HasAsyncReads());
  store().CancelCalls();
  Answer answer;
  EXPECT_FALSE(store().TryGetTaskAsync(task.id(), kEveryRow,
                                       absl::InfiniteFuture(),
                                       answer.Callback()));
}

INSTANTIATE_TEST_SUITE_P(
    Backends, AsyncGetTaskTest,
    ::testing::ValuesIn(::tasks::testing::SelectedStoreBackends()),
    [](const ::testing::TestParamInfo<StoreBackend>& info) {
      return ::tasks::testing::StoreBackendName(info.param);
    });

}  // namespace
}  // namespace tasks::storage
