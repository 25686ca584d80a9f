// TryGetTaskAsync and TryCreateTaskAsync: GetTask and CreateTask answered
// on the store's own thread (PostgreSQL's pipelined statements), with the
// same answers; SQLite has no such path and declines every call.

#include <atomic>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
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
#include "storage/run_blocking.h"
#include "storage/soci_task_store.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/reliability/database_lock.h"
#include "tests/storage/answer_tally.h"
#include "tests/storage/recording_observer.h"
#include "tests/storage/task_store_fixture.h"
#include "tests/testing/proto_matchers.h"
#include "tests/testing/raw_sql.h"
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
using ::tasks::testing::FreshStoreDatabase;
using ::tasks::testing::PastPgBouncer;
using ::tasks::testing::QueryRawSql;
using ::tasks::testing::StoreLocation;

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

class AsyncTaskStoreTest : public TaskStoreTest {
 protected:
  bool HasAsyncReads() const { return backend() != StoreBackend::kSqlite; }

  // The answer of TryGetTaskAsync on `on` (store() by default), retried
  // until the store takes the call (its connections open on first use);
  // nullopt when it never does.
  std::optional<absl::StatusOr<v1::Task>> GetAsync(
      int64_t id, const AccessScope& scope,
      absl::Time deadline = absl::InfiniteFuture(), TaskStore* on = nullptr) {
    TaskStore& target = on != nullptr ? *on : store();
    // SQLite declines at once, every time: one try says so.
    const absl::Time give_up =
        absl::Now() + (HasAsyncReads() ? kReaderStart : absl::ZeroDuration());
    do {
      Answer answer;
      if (target.TryGetTaskAsync(id, scope, deadline, answer.Callback())) {
        return answer.Wait();
      }
      absl::SleepFor(absl::Milliseconds(10));
    } while (absl::Now() < give_up);
    return std::nullopt;
  }

  // The answer of TryCreateTaskAsync, once the store is connected (GetAsync
  // first); nullopt when it declines.
  std::optional<absl::StatusOr<v1::Task>> CreateAsync(
      const v1::Task& task, const std::string& request_id = "",
      const Idempotency& idempotency = {},
      absl::Time deadline = absl::InfiniteFuture(), TaskStore* on = nullptr) {
    TaskStore& target = on != nullptr ? *on : store();
    Answer answer;
    if (!target.TryCreateTaskAsync(task, request_id, idempotency, deadline,
                                   answer.Callback())) {
      return std::nullopt;
    }
    return answer.Wait();
  }

  // True once the store takes async calls; false on SQLite, which never
  // does (elsewhere that fails the test).
  bool AsyncUp() {
    absl::StatusOr<v1::Task> probe = CreateTask(TaskBuilder("probe").Build());
    EXPECT_TRUE(probe.ok()) << probe.status();
    const bool up = probe.ok() && GetAsync(probe->id(), kEveryRow).has_value();
    EXPECT_EQ(up, HasAsyncReads()) << "the store never took an async call";
    return up;
  }

  // A task titled "taken" in `project`, whose title the tests' creates
  // then clash with.
  absl::StatusOr<v1::Task> CreateTaken(const v1::Project& project) {
    return CreateTask(TaskBuilder("taken").InProject(project.id()).Build());
  }
};

TEST_P(AsyncTaskStoreTest, AnswersAsGetTaskDoes) {
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
  EXPECT_THAT(
      *GetAsync(task.id(), AccessScope::Projects({theirs.id(), mine.id()})),
      IsOkAndHolds(EqualsProto(task)));
}

TEST_P(AsyncTaskStoreTest, PastDeadlineIsDeadlineExceeded) {
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
TEST_P(AsyncTaskStoreTest, ConcurrentReadsEachGetTheirOwnRow) {
  std::vector<v1::Task> tasks;
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(v1::Task task,
                         CreateTask(TaskBuilder(absl::StrCat("t", i))));
    tasks.push_back(task);
  }
  ASSERT_EQ(GetAsync(tasks[0].id(), kEveryRow).has_value(), HasAsyncReads());
  constexpr int kThreads = 4;
  constexpr int kReadsPerThread = 500;
  constexpr int kReads = kThreads * kReadsPerThread;
  AnswerTally tally;
  RunThreads(kThreads, [&](int thread) {
    for (int i = 0; i < kReadsPerThread; ++i) {
      const v1::Task& want = tasks[(thread * 7 + i) % tasks.size()];
      if (!store().TryGetTaskAsync(want.id(), kEveryRow, absl::InfiniteFuture(),
                                   tally.Callback([&want](const v1::Task& got) {
                                     return got.id() == want.id() &&
                                            got.title() == want.title();
                                   }))) {
        tally.Declined();
      }
    }
  });
  ASSERT_TRUE(tally.Await(kReads)) << tally.Summary();
  EXPECT_EQ(tally.count(HasAsyncReads() ? "OK" : "DECLINED"), kReads)
      << tally.Summary();
}

TEST_P(AsyncTaskStoreTest, CancelCallsDeclinesLaterReads) {
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("cancelled")));
  ASSERT_EQ(GetAsync(task.id(), kEveryRow).has_value(), HasAsyncReads());
  store().CancelCalls();
  Answer answer;
  EXPECT_FALSE(store().TryGetTaskAsync(
      task.id(), kEveryRow, absl::InfiniteFuture(), answer.Callback()));
}

TEST_P(AsyncTaskStoreTest, CreateStoresTheTask) {
  const bool up = AsyncUp();
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("P"));
  std::optional<absl::StatusOr<v1::Task>> created =
      CreateAsync(TaskBuilder("written")
                      .InProject(project.id())
                      .WithDescription("d")
                      .Build());
  if (!up) {
    EXPECT_FALSE(created.has_value()) << "SQLite has no asynchronous writes";
    return;
  }
  ASSERT_TRUE(created.has_value());
  ASSERT_TRUE(created->ok()) << created->status();
  EXPECT_EQ((*created)->title(), "written");
  EXPECT_EQ((*created)->description(), "d");
  EXPECT_EQ((*created)->project_id(), project.id());
  // Committed before the answer: another connection sees it.
  EXPECT_THAT(store().GetTask((*created)->id(), kEveryRow),
              IsOkAndHolds(EqualsProto(**created)));
}

// Each refusal is the one CreateTask gives for the same draft.
TEST_P(AsyncTaskStoreTest, CreateRefusesAsCreateTaskDoes) {
  if (!AsyncUp()) return;
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("P"));
  ASSERT_OK_AND_ASSIGN(v1::Task taken, CreateTaken(project));
  const v1::Task drafts[] = {
      TaskBuilder("taken").InProject(project.id()).Build(),  // title taken
      TaskBuilder("orphan").InProject(project.id() + 1000).Build(),
      TaskBuilder("").InProject(project.id()).Build(),  // no title
  };
  for (const v1::Task& draft : drafts) {
    absl::StatusOr<v1::Task> sync = store().CreateTask(draft, "");
    std::optional<absl::StatusOr<v1::Task>> async = CreateAsync(draft);
    ASSERT_TRUE(async.has_value());
    ASSERT_FALSE(sync.ok()) << draft.ShortDebugString();
    EXPECT_THAT(
        *async,
        StatusIs(sync.status().code(),
                 ::testing::StrEq(std::string(sync.status().message()))))
        << draft.ShortDebugString();
    EXPECT_EQ(ErrorReason(async->status()), ErrorReason(sync.status()));
    EXPECT_EQ(ErrorField(async->status()), ErrorField(sync.status()));
  }
}

TEST_P(AsyncTaskStoreTest, CreateReplaysItsRequestId) {
  if (!AsyncUp()) return;
  ASSERT_OK_AND_ASSIGN(v1::Project mine, CreateProject("Mine"));
  ASSERT_OK_AND_ASSIGN(v1::Project theirs, CreateProject("Theirs"));
  const v1::Task draft = TaskBuilder("once").InProject(mine.id()).Build();
  std::optional<absl::StatusOr<v1::Task>> first = CreateAsync(draft, "r-1");
  ASSERT_TRUE(first.has_value() && first->ok());
  // The same draft again: the same task, not a second one.
  EXPECT_THAT(*CreateAsync(draft, "r-1"), IsOkAndHolds(EqualsProto(**first)));
  // Another draft under the same request_id.
  EXPECT_THAT(
      *CreateAsync(TaskBuilder("other").InProject(mine.id()).Build(), "r-1"),
      ReasonIs(reason::kRequestIdReused));
  // A replay the caller's access does not reach is as if it did not exist.
  Idempotency narrow;
  narrow.access = AccessScope::Projects({theirs.id()});
  EXPECT_THAT(*CreateAsync(draft, "r-1", narrow),
              ReasonIs(reason::kTaskNotFound));
  // The same key in another scope is another key.
  std::optional<absl::StatusOr<v1::Task>> elsewhere = CreateAsync(
      TaskBuilder("once elsewhere").Build(), "r-1", ScopeNamed("someone else"));
  ASSERT_TRUE(elsewhere.has_value());
  EXPECT_TRUE(elsewhere->ok()) << elsewhere->status();
}

TEST_P(AsyncTaskStoreTest, CreatePastDeadlineWritesNothing) {
  if (!AsyncUp()) return;
  std::optional<absl::StatusOr<v1::Task>> late = CreateAsync(
      TaskBuilder("too late").Build(), "", {}, absl::Now() - absl::Seconds(1));
  ASSERT_TRUE(late.has_value());
  EXPECT_THAT(*late, ReasonIs(reason::kDeadlineExceeded));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> titles, ListTitles());
  EXPECT_THAT(titles, ::testing::Not(::testing::Contains("too late")));
}

// Concurrent creates share batches (one transaction each): a create that
// fails (a taken title) gets its error, and every other one is committed,
// in a later batch or, undone with a failed batch, the blocking way (as the
// service runs a RunBlockingInstead answer).
TEST_P(AsyncTaskStoreTest, FailingCreateUndoesOnlyItself) {
  if (!AsyncUp()) return;
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("P"));
  ASSERT_OK_AND_ASSIGN(v1::Task taken, CreateTaken(project));
  constexpr int kThreads = 4;
  constexpr int kCreates = 200;  // per thread; every 4th takes "taken"
  AnswerTally tally;
  RunThreads(kThreads, [&](int thread) {
    for (int i = 0; i < kCreates; ++i) {
      const std::string title =
          i % 4 == 0 ? "taken" : absl::StrCat("t", thread, "-", i);
      if (!store().TryCreateTaskAsync(
              TaskBuilder(title).InProject(project.id()).Build(), "", {},
              absl::InfiniteFuture(),
              tally.Callback(
                  [title](const v1::Task& created) {
                    return created.title() == title;
                  },
                  title))) {
        tally.Declined();
      }
    }
  });
  ASSERT_TRUE(tally.Await(kThreads * kCreates)) << tally.Summary();
  std::vector<std::string> created = {"taken"};
  for (const v1::Task& task : tally.tasks()) created.push_back(task.title());
  int refused = tally.count("ALREADY_EXISTS");
  for (const std::string& title : tally.run_blocking()) {
    absl::StatusOr<v1::Task> task =
        CreateTask(TaskBuilder(title).InProject(project.id()).Build());
    if (task.ok()) {
      created.push_back(title);
    } else if (absl::IsAlreadyExists(task.status())) {
      ++refused;
    }
  }
  EXPECT_EQ(refused, kThreads * kCreates / 4) << tally.Summary();
  EXPECT_EQ(created.size(), 1 + kThreads * kCreates * 3 / 4) << tally.Summary();
  EXPECT_EQ(tally.count("OK") + tally.count("ALREADY_EXISTS") +
                tally.count("RUN_BLOCKING"),
            kThreads * kCreates)
      << tally.Summary();
  std::cout << "FIGURE " << kThreads * kCreates << " async creates, every "
            << "4th a taken title: " << tally.Summary() << "\n";
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> stored,
                       ListTitles(TasksInProject(project.id())));
  EXPECT_THAT(stored, ::testing::UnorderedElementsAreArray(created));
}

// A failure undoes its batch before statements of SQL texts not yet
// prepared on the connection: none of them fails for it (each is answered,
// sent again, or given up to the blocking way, never INTERNAL).
TEST_P(AsyncTaskStoreTest, FailureBeforeNewStatementsFailsOnlyItself) {
  if (!AsyncUp()) return;
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("P"));
  ASSERT_OK_AND_ASSIGN(v1::Task taken, CreateTaken(project));
  // Each round: a taken title, then three statements of new texts (other
  // column sets, a restricted read), sent back to back.
  constexpr int kRounds = 20;
  // Each create with its draft: a RunBlockingInstead answer is settled the
  // blocking way, as the service does.
  struct Sent {
    std::unique_ptr<Answer> answer = std::make_unique<Answer>();
    std::optional<v1::Task> draft;  // unset for the read
  };
  std::vector<Sent> clashes, others;
  for (int i = 0; i < kRounds; ++i) {
    auto send_create = [&](const v1::Task& draft, std::vector<Sent>& into) {
      into.push_back({});
      into.back().draft = draft;
      ASSERT_TRUE(store().TryCreateTaskAsync(draft, "", {},
                                             absl::InfiniteFuture(),
                                             into.back().answer->Callback()));
    };
    send_create(TaskBuilder("taken").InProject(project.id()).Build(), clashes);
    send_create(TaskBuilder(absl::StrCat("d", i))
                    .InProject(project.id())
                    .WithDescription("new columns")
                    .Build(),
                others);
    v1::Task with_priority =
        TaskBuilder(absl::StrCat("p", i)).InProject(project.id()).Build();
    with_priority.set_priority(v1::Task::HIGH);
    send_create(with_priority, others);
    others.push_back({});
    ASSERT_TRUE(store().TryGetTaskAsync(
        taken.id(), AccessScope::Projects({project.id()}),
        absl::InfiniteFuture(), others.back().answer->Callback()));
  }
  auto settled = [&](Sent& sent) {
    absl::StatusOr<v1::Task> answer = sent.answer->Wait();
    if (!IsRunBlockingInstead(answer.status())) return answer;
    EXPECT_TRUE(sent.draft.has_value()) << "a read was given up";
    return sent.draft.has_value() ? store().CreateTask(*sent.draft, "")
                                  : answer;
  };
  for (Sent& clash : clashes) {
    EXPECT_THAT(settled(clash), ReasonIs(reason::kTitleTaken));
  }
  for (Sent& other : others) {
    absl::StatusOr<v1::Task> answer = settled(other);
    EXPECT_TRUE(answer.ok()) << answer.status();
  }
}

// A create waiting on a lock held elsewhere is given up at lock_timeout,
// undone, for the blocking way to run (RunBlockingInstead), and reads are
// answered meanwhile: they do not wait behind it.
TEST_P(AsyncTaskStoreTest, CreateWaitingOnALockHoldsUpNoRead) {
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
  ASSERT_OK_AND_ASSIGN(v1::Task task,
                       store->CreateTask(TaskBuilder("readable"), ""));
  // Connected: the first async read is taken.
  const bool connected =
      GetAsync(task.id(), kEveryRow, absl::InfiniteFuture(), store.get())
          .has_value();
  ASSERT_EQ(connected, HasAsyncReads());
  if (!connected) return;
  ASSERT_OK_AND_ASSIGN(std::string direct, PastPgBouncer(connection));
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<::tasks::reliability::DatabaseWriteLock> lock,
      ::tasks::reliability::DatabaseWriteLock::Acquire(backend(), direct));
  const absl::Time start = absl::Now();
  Answer blocked;
  ASSERT_TRUE(store->TryCreateTaskAsync(TaskBuilder("blocked").Build(), "", {},
                                        start + absl::Seconds(10),
                                        blocked.Callback()));
  absl::SleepFor(absl::Milliseconds(20));  // the create is waiting
  Answer read;
  const absl::Time asked = absl::Now();
  ASSERT_TRUE(store->TryGetTaskAsync(
      task.id(), kEveryRow, asked + absl::Seconds(10), read.Callback()));
  EXPECT_TRUE(read.Wait().ok());
  const absl::Duration read_took = absl::Now() - asked;
  const absl::StatusOr<v1::Task> given_up = blocked.Wait();
  EXPECT_TRUE(IsRunBlockingInstead(given_up.status())) << given_up.status();
  const absl::Duration create_took = absl::Now() - start;
  std::cout << "FIGURE a create on a locked table answered after "
            << create_took << ", a read meanwhile after " << read_took << "\n";
  EXPECT_LT(read_took, absl::Milliseconds(200));
  EXPECT_LT(create_took, absl::Seconds(2));
  lock->Release();
  ASSERT_OK_AND_ASSIGN(v1::ListTasksResponse page,
                       store->ListTasks(v1::ListTasksRequest(), kEveryRow));
  for (const v1::Task& listed : page.tasks()) {
    EXPECT_NE(listed.title(), "blocked") << "the refused create was stored";
  }
}

// Builds before the row fingerprint stored the fingerprint of the bytes
// sent (RequestFingerprints::sent): a byte-for-byte retry of such a
// request still replays, blocking and asynchronously.
TEST_P(AsyncTaskStoreTest, RowsFingerprintedByTheirBytesStillReplay) {
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
  const v1::Task spelled = TaskBuilder("Spelled")
                               .WithStatus(v1::Task::PENDING)
                               .WithPriority(v1::Task::MEDIUM);
  ASSERT_OK_AND_ASSIGN(v1::Task first, store->CreateTask(spelled, "req-old"));
  // SHA-256 of its bytes, as request_fingerprint_test has it.
  ASSERT_OK(QueryRawSql(
      backend(), connection,
      "UPDATE tasks SET request_fingerprint = "
      "'70eebae81217cd609cf987542307aab2956c96ecb6818249aa15ddbb42714d8b' "
      "WHERE request_id = 'req-old'"));
  EXPECT_THAT(store->CreateTask(spelled, "req-old"),
              IsOkAndHolds(EqualsProto(first)));
  const bool connected =
      GetAsync(first.id(), kEveryRow, absl::InfiniteFuture(), store.get())
          .has_value();
  ASSERT_EQ(connected, HasAsyncReads());
  if (connected) {
    std::optional<absl::StatusOr<v1::Task>> replayed = CreateAsync(
        spelled, "req-old", {}, absl::InfiniteFuture(), store.get());
    ASSERT_TRUE(replayed.has_value()) << "the async create was declined";
    EXPECT_THAT(*replayed, IsOkAndHolds(EqualsProto(first)));
  }
  // Its row's other spellings were never what the older build matched.
  EXPECT_THAT(store->CreateTask(TaskBuilder("Spelled"), "req-old"),
              ReasonIs(reason::kRequestIdReused));
}

// Concurrent creates commit together: the observer hears of each batch's
// writes, and they add up to the creates.
TEST_P(AsyncTaskStoreTest, ConcurrentCreatesShareCommits) {
  RecordingObserver observer;
  SociTaskStoreOptions options;
  options.observer = &observer;
  ASSERT_OK_AND_ASSIGN(
      TaskStorePtr store,
      OpenFreshStore(::tasks::testing::StoreLocation::kShared, options));
  ASSERT_OK_AND_ASSIGN(v1::Task first,
                       store->CreateTask(TaskBuilder("first"), ""));
  const size_t groups_before = observer.groups().size();
  // The first async call opens the connections: wait until one is taken.
  const bool connected =
      GetAsync(first.id(), kEveryRow, absl::InfiniteFuture(), store.get())
          .has_value();
  ASSERT_EQ(connected, HasAsyncReads());
  constexpr int kThreads = 4;
  constexpr int kCreates = 100;  // per thread
  AnswerTally tally;
  RunThreads(kThreads, [&](int thread) {
    for (int i = 0; i < kCreates; ++i) {
      if (!store->TryCreateTaskAsync(
              TaskBuilder(absl::StrCat("c", thread, "-", i)).Build(), "", {},
              absl::InfiniteFuture(), tally.Callback())) {
        tally.Declined();
      }
    }
  });
  ASSERT_TRUE(tally.Await(kThreads * kCreates)) << tally.Summary();
  const std::vector<int> all = observer.groups();
  const std::vector<int> groups(all.begin() + groups_before, all.end());
  if (!connected) {
    EXPECT_EQ(tally.count("DECLINED"), kThreads * kCreates);
    EXPECT_THAT(groups, ::testing::IsEmpty());
    return;
  }
  EXPECT_EQ(tally.count("OK"), kThreads * kCreates) << tally.Summary();
  int writes = 0;
  for (int group : groups) writes += group;
  EXPECT_EQ(writes, kThreads * kCreates);
  EXPECT_LT(groups.size(), static_cast<size_t>(writes))
      << "no two creates shared a commit";
}

INSTANTIATE_TEST_SUITE_P(
    Backends, AsyncTaskStoreTest,
    ::testing::ValuesIn(::tasks::testing::SelectedStoreBackends()),
    [](const ::testing::TestParamInfo<StoreBackend>& info) {
      return ::tasks::testing::StoreBackendName(info.param);
    });

}  // namespace
}  // namespace tasks::storage
