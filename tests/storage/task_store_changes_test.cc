// The TaskStore contract on every selected backend (see
// task_store_fixture.h). The change log: every write's changes in commit
// order, positions taken with list pages, trimming, waiting for changes.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/engine/dialect.h"
#include "storage/postgres/postgres_dialect.h"
#include "storage/schema/task_rows.h"
#include "storage/soci_task_store.h"
#include "storage/sql/queries.h"
#include "storage/task_changes.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/storage/task_store_fixture.h"
#include "tests/testing/proto_matchers.h"
#include "tests/testing/raw_sql.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/store_backends.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::EqualsProto;
using ::tasks::testing::FreshStoreDatabase;
using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::MaskOf;
using ::tasks::testing::PostgresThroughPgBouncer;
using ::tasks::testing::ProjectNamed;
using ::tasks::testing::QueryRawSql;
using ::tasks::testing::ReasonIs;
using ::tasks::testing::StatusIs;
using ::tasks::testing::StoreBackend;
using ::tasks::testing::StoreLocation;
using ::tasks::testing::TaskBuilder;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;
using Code = ::absl::StatusCode;

// Every change after `position`, numbered first, in seq order, without
// those the position reflects already; `position` moves past them.
absl::StatusOr<std::vector<TaskChange>> ChangesAfter(TaskStore& store,
                                                     ChangePosition& position) {
  RETURN_IF_ERROR(store.SequenceChanges().status());
  std::vector<TaskChange> changes;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<TaskChange> read,
                     store.ReadChanges(position, 100));
    if (read.empty()) return changes;
    for (TaskChange& change : read) {
      if (change.seq <= position.seq()) {
        return absl::InternalError("ReadChanges went back in seq");
      }
      if (position.Advance(change)) changes.push_back(std::move(change));
    }
  }
}

// The change's type and task, for messages.
std::string Describe(const TaskChange& change) {
  return absl::StrCat(change.seq, ": ", v1::TaskEvent::Type_Name(change.type),
                      " ", change.task.ShortDebugString());
}

MATCHER_P2(IsChange, type, task, "") {
  if (arg.type != type) {
    *result_listener << "is " << Describe(arg);
    return false;
  }
  return ::testing::ExplainMatchResult(EqualsProto(task), arg.task,
                                       result_listener);
}

TEST_P(TaskStoreTest, EveryWriteIsLoggedInCommitOrderWithTheWholeTask) {
  ASSERT_OK_AND_ASSIGN(ChangePosition position, store().LatestChangePosition());
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Home"));
  v1::Task draft = TaskBuilder("Full")
                       .InProject(project.id())
                       .WithDescription("every field")
                       .WithStatus(v1::Task::IN_PROGRESS)
                       .WithPriority(v1::Task::HIGH)
                       .WithMetadataJson(R"({"k": [1, "two", {"x": null}]})");
  draft.mutable_due_time()->set_seconds(1900000000);
  draft.mutable_due_time()->set_nanos(123000);
  ASSERT_OK_AND_ASSIGN(v1::Task full, CreateTask(draft));
  v1::BatchCreateTasksRequest batch;
  *batch.add_requests()->mutable_task() =
      TaskBuilder("b1").InProject(project.id());
  *batch.add_requests()->mutable_task() = TaskBuilder("b2");
  ASSERT_OK_AND_ASSIGN(v1::BatchCreateTasksResponse created,
                       store().BatchCreateTasks(batch));
  v1::Task change = full;
  change.set_title("Full, renamed");
  change.clear_due_time();
  ASSERT_OK_AND_ASSIGN(
      v1::Task updated,
      store().UpdateTask(change, MaskOf({"title", "due_time"}), kEveryRow));
  ASSERT_OK(store().DeleteTask(created.tasks(1).id(), kEveryRow));
  ASSERT_OK(store().DeleteProject(project.id(), /*cascade=*/true));

  ASSERT_OK_AND_ASSIGN(std::vector<TaskChange> changes,
                       ChangesAfter(store(), position));
  ASSERT_THAT(changes, SizeIs(7));
  EXPECT_THAT(changes[0], IsChange(v1::TaskEvent::CREATED, full));
  EXPECT_THAT(changes[1], IsChange(v1::TaskEvent::CREATED, created.tasks(0)));
  EXPECT_THAT(changes[2], IsChange(v1::TaskEvent::CREATED, created.tasks(1)));
  EXPECT_THAT(changes[3], IsChange(v1::TaskEvent::UPDATED, updated));
  EXPECT_THAT(changes[4], IsChange(v1::TaskEvent::DELETED, created.tasks(1)));
  // The cascade, in one statement: in either order.
  EXPECT_THAT(
      std::vector<TaskChange>(changes.begin() + 5, changes.end()),
      UnorderedElementsAre(IsChange(v1::TaskEvent::DELETED, updated),
                           IsChange(v1::TaskEvent::DELETED, created.tasks(0))));
  for (size_t i = 1; i < changes.size(); ++i) {
    EXPECT_GT(changes[i].seq, changes[i - 1].seq);
    EXPECT_NE(changes[i].change_id, changes[i - 1].change_id);
  }
  EXPECT_EQ(position.seq(), changes.back().seq);
  EXPECT_THAT(position.reflected_ids(), IsEmpty());
}

TEST_P(TaskStoreTest, ChangeLogHasEveryColumnOfTasks) {
  // A column added to `tasks` (a new Task field) must be added to
  // task_changes and its triggers by the same migration.
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
  auto columns = [&](absl::string_view table) {
    return QueryRawSql(
        backend(), connection,
        backend() == StoreBackend::kSqlite
            ? absl::StrCat("SELECT group_concat(name, ' ') FROM "
                           "pragma_table_info('",
                           table, "')")
            : absl::StrCat("SELECT string_agg(column_name, ' ') FROM "
                           "information_schema.columns WHERE table_name = '",
                           table, "'"));
  };
  ASSERT_OK_AND_ASSIGN(std::string task_columns, columns("tasks"));
  ASSERT_OK_AND_ASSIGN(std::string change_columns, columns("task_changes"));
  const std::set<std::string> logged = absl::StrSplit(change_columns, ' ');
  // What identifies a create's request is not part of the task.
  const std::set<std::string> not_logged = {"request_id", "idempotency_scope",
                                            "request_fingerprint"};
  std::cout << "FIGURE columns of tasks: " << task_columns << "\n";
  for (absl::string_view column : absl::StrSplit(task_columns, ' ')) {
    if (not_logged.count(std::string(column)) != 0) continue;
    EXPECT_EQ(logged.count(std::string(column)), 1u)
        << "task_changes lacks the column " << column << " of tasks";
  }
}

TEST_P(TaskStoreTest, ListTokenThenWritesGivesExactlyTheLaterChanges) {
  std::vector<v1::Task> tasks;
  for (const char* title : {"a", "b", "c"}) {
    ASSERT_OK_AND_ASSIGN(tasks.emplace_back(), CreateTask(TaskBuilder(title)));
  }
  v1::ListTasksRequest request;
  request.set_page_size(2);
  ASSERT_OK_AND_ASSIGN(v1::ListTasksResponse first, store().ListTasks(request));
  request.set_page_token(first.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListTasksResponse second,
                       store().ListTasks(request));
  ASSERT_THAT(second.tasks(), SizeIs(1));
  ASSERT_FALSE(first.resume_token().empty());
  ASSERT_FALSE(second.resume_token().empty());

  v1::Task change = tasks[0];
  change.set_description("later");
  ASSERT_OK_AND_ASSIGN(
      v1::Task updated,
      store().UpdateTask(change, MaskOf({"description"}), kEveryRow));
  ASSERT_OK_AND_ASSIGN(v1::Task added, CreateTask(TaskBuilder("d")));
  ASSERT_OK(store().DeleteTask(tasks[1].id(), kEveryRow));
  // An empty page has a position too.
  v1::ListTasksRequest none;
  none.set_status(v1::Task::COMPLETED);
  ASSERT_OK_AND_ASSIGN(v1::ListTasksResponse empty, store().ListTasks(none));
  ASSERT_THAT(empty.tasks(), IsEmpty());
  // With no write between them, the same position.
  ASSERT_OK_AND_ASSIGN(ChangePosition latest, store().LatestChangePosition());
  EXPECT_EQ(latest.Encode(), empty.resume_token());

  for (const std::string& token :
       {first.resume_token(), second.resume_token()}) {
    ASSERT_OK_AND_ASSIGN(ChangePosition position,
                         ChangePosition::Decode(token));
    EXPECT_THAT(
        ChangesAfter(store(), position),
        IsOkAndHolds(ElementsAre(IsChange(v1::TaskEvent::UPDATED, updated),
                                 IsChange(v1::TaskEvent::CREATED, added),
                                 IsChange(v1::TaskEvent::DELETED, tasks[1]))));
  }
  ASSERT_OK_AND_ASSIGN(ChangePosition now,
                       ChangePosition::Decode(empty.resume_token()));
  EXPECT_THAT(ChangesAfter(store(), now), IsOkAndHolds(IsEmpty()));
}

TEST_P(TaskStoreTest, PositionAheadOfTheLogIsInvalid) {
  ASSERT_OK(CreateTask(TaskBuilder("one")).status());
  ASSERT_OK(store().SequenceChanges().status());
  ASSERT_OK_AND_ASSIGN(ChangePosition latest, store().LatestChangePosition());
  const absl::StatusOr<std::vector<TaskChange>> ahead =
      store().ReadChanges(ChangePosition(latest.seq() + 1, {}), 10);
  EXPECT_THAT(ahead, AllOf(StatusIs(Code::kInvalidArgument),
                           ReasonIs(reason::kInvalidResumeToken)));
  EXPECT_EQ(ErrorField(ahead.status()), "resume_token");
  EXPECT_THAT(store().ReadChanges(latest, 10), IsOkAndHolds(IsEmpty()));
}

TEST_P(TaskStoreTest, TrimmingExpiresOldPositionsAndNeverReusesASeq) {
  ASSERT_OK_AND_ASSIGN(ChangePosition start, store().LatestChangePosition());
  for (const char* title : {"a", "b", "c"}) {
    ASSERT_OK(CreateTask(TaskBuilder(title)).status());
  }
  ASSERT_OK(store().SequenceChanges().status());
  // Nothing is that old yet.
  ASSERT_OK(store().TrimChanges(absl::Now() - absl::Hours(1)));
  EXPECT_THAT(store().ReadChanges(start, 10), IsOkAndHolds(SizeIs(3)));

  ASSERT_OK_AND_ASSIGN(ChangePosition latest, store().LatestChangePosition());
  ASSERT_OK(store().TrimChanges(absl::Now() + absl::Minutes(1)));
  EXPECT_THAT(store().ReadChanges(start, 10),
              AllOf(StatusIs(Code::kOutOfRange),
                    ReasonIs(reason::kResumeTokenExpired)));
  EXPECT_THAT(store().ReadChanges(latest, 10), IsOkAndHolds(IsEmpty()));
  ASSERT_OK_AND_ASSIGN(ChangePosition after_trim,
                       store().LatestChangePosition());
  EXPECT_EQ(after_trim.seq(), latest.seq());

  // With every change trimmed, the next one still continues the sequence.
  ASSERT_OK_AND_ASSIGN(v1::Task later, CreateTask(TaskBuilder("later")));
  ChangePosition position = latest;
  ASSERT_OK_AND_ASSIGN(std::vector<TaskChange> changes,
                       ChangesAfter(store(), position));
  ASSERT_THAT(changes, ElementsAre(IsChange(v1::TaskEvent::CREATED, later)));
  std::cout << "FIGURE seq after trimming through " << latest.seq() << ": "
            << changes[0].seq << "\n";
  EXPECT_EQ(changes[0].seq, latest.seq() + 1);
}

TEST_P(TaskStoreTest, TrimmingKeepsTheChangesFromItsTimeOn) {
  ASSERT_OK_AND_ASSIGN(ChangePosition start, store().LatestChangePosition());
  ASSERT_OK(CreateTask(TaskBuilder("old")).status());
  ASSERT_OK(store().SequenceChanges().status());
  ASSERT_OK_AND_ASSIGN(ChangePosition after_old,
                       store().LatestChangePosition());
  ASSERT_OK(CreateTask(TaskBuilder("older")).status());
  ASSERT_OK(store().SequenceChanges().status());
  ASSERT_OK_AND_ASSIGN(ChangePosition cut, store().LatestChangePosition());
  const absl::Time before = absl::Now();
  // SQLite's clock counts milliseconds: the next change is surely later.
  absl::SleepFor(absl::Milliseconds(10));
  ASSERT_OK_AND_ASSIGN(v1::Task kept, CreateTask(TaskBuilder("kept")));
  ASSERT_OK(store().SequenceChanges().status());

  ASSERT_OK(store().TrimChanges(before));
  for (const ChangePosition& gone : {start, after_old}) {
    EXPECT_THAT(store().ReadChanges(gone, 10), StatusIs(Code::kOutOfRange));
  }
  ChangePosition position = cut;
  EXPECT_THAT(
      ChangesAfter(store(), position),
      IsOkAndHolds(ElementsAre(IsChange(v1::TaskEvent::CREATED, kept))));
}

TEST_P(TaskStoreTest, WaitForChangesWakesOnAnotherStoresCommit) {
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr watcher, OpenSociTaskStore(connection));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr writer, OpenSociTaskStore(connection));
  const bool signalled =
      backend() == StoreBackend::kPostgres && !PostgresThroughPgBouncer();
  if (!signalled) {
    const absl::Time start = absl::Now();
    EXPECT_THAT(watcher->WaitForChanges(absl::Milliseconds(200)),
                IsOkAndHolds(false));
    const absl::Duration waited = absl::Now() - start;
    std::cout << "FIGURE WaitForChanges(200ms) without a signal took " << waited
              << "\n";
    EXPECT_GE(waited, absl::Milliseconds(190));
    return;
  }
  // The first wait connects (and says true: it heard nothing before); then
  // the connection listens.
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK_AND_ASSIGN(bool changed,
                         watcher->WaitForChanges(absl::Milliseconds(50)));
    if (!changed) break;
  }
  // A write alone sends nothing (NOTIFY is once per numbering run, see the
  // migration); the run that numbers it does, before the wait or during it.
  ASSERT_OK(writer->CreateTask(TaskBuilder("before"), "").status());
  EXPECT_THAT(watcher->WaitForChanges(absl::Milliseconds(100)),
              IsOkAndHolds(false));
  EXPECT_THAT(writer->SequenceChanges(), IsOkAndHolds(1));
  EXPECT_THAT(watcher->WaitForChanges(absl::Seconds(10)), IsOkAndHolds(true));
  absl::Time committed;
  std::thread write([&] {
    absl::SleepFor(absl::Milliseconds(100));  // Likely inside the wait.
    ASSERT_OK(writer->CreateTask(TaskBuilder("during"), "").status());
    EXPECT_THAT(writer->SequenceChanges(), IsOkAndHolds(1));
    committed = absl::Now();
  });
  EXPECT_THAT(watcher->WaitForChanges(absl::Seconds(10)), IsOkAndHolds(true));
  const absl::Time woke = absl::Now();
  write.join();
  std::cout << "FIGURE WaitForChanges woke " << woke - committed
            << " after another store's SequenceChanges returned\n";
  EXPECT_LT(woke - committed, absl::Seconds(1));
  // Nothing numbered, nothing sent.
  EXPECT_THAT(writer->SequenceChanges(), IsOkAndHolds(0));
  EXPECT_THAT(watcher->WaitForChanges(absl::Milliseconds(100)),
              IsOkAndHolds(false));
  // The watcher's own numbering runs are no signal to it: its server reads
  // right after them.
  ASSERT_OK(writer->CreateTask(TaskBuilder("own run"), "").status());
  EXPECT_THAT(watcher->SequenceChanges(), IsOkAndHolds(1));
  EXPECT_THAT(watcher->WaitForChanges(absl::Milliseconds(300)),
              IsOkAndHolds(false));
}

TEST_P(TaskStoreTest, CancelCallsEndsAWaitForChanges) {
  // Connected and listening first, where there is a signal.
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK_AND_ASSIGN(bool changed,
                         store().WaitForChanges(absl::Milliseconds(10)));
    if (!changed) break;
  }
  absl::StatusOr<bool> waited;
  const absl::Time start = absl::Now();
  std::thread waiter(
      [&] { waited = store().WaitForChanges(absl::Seconds(30)); });
  store().CancelCalls();
  waiter.join();
  const absl::Duration took = absl::Now() - start;
  std::cout << "FIGURE WaitForChanges(30s) ended by CancelCalls after " << took
            << "\n";
  EXPECT_LT(took, absl::Seconds(5));
  EXPECT_THAT(waited, StatusIs(Code::kUnavailable));
}

TEST_P(TaskStoreTest, ListTasksNumbersChangesWhenTooManyWait) {
  // More unnumbered changes than a token may name (no replica numbering
  // them): the list numbers them first. SQLite numbers every change at once.
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
  constexpr int kTasks = 4200;
  ASSERT_OK(QueryRawSql(
      backend(), connection,
      backend() == StoreBackend::kSqlite
          ? absl::StrCat("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT "
                         "i + 1 FROM n WHERE i < ",
                         kTasks,
                         ") INSERT INTO tasks (title) SELECT 't' || i FROM n")
          : absl::StrCat("INSERT INTO tasks (title) SELECT 't' || i FROM "
                         "generate_series(1, ",
                         kTasks, ") AS i")));
  v1::ListTasksRequest request;
  request.set_page_size(10);
  ASSERT_OK_AND_ASSIGN(v1::ListTasksResponse page, store->ListTasks(request));
  // Read twice (numbered in between): the page holds the second read alone.
  EXPECT_EQ(page.tasks_size(), 10);
  ASSERT_OK_AND_ASSIGN(ChangePosition position,
                       ChangePosition::Decode(page.resume_token()));
  std::cout << "FIGURE a list after " << kTasks
            << " unnumbered changes: position " << position.seq() << " with "
            << position.reflected_ids().size() << " reflected ids\n";
  EXPECT_EQ(position.seq(), kTasks);
  EXPECT_THAT(position.reflected_ids(), IsEmpty());
  EXPECT_THAT(ChangesAfter(*store, position), IsOkAndHolds(IsEmpty()));
}

// The tasks by id, as a list page or a log gives them.
using Table = std::map<int64_t, v1::Task>;

// Applies `change` to `table`; an error for a change that cannot follow
// the table's state (a duplicate or a gap).
absl::Status Apply(const TaskChange& change, Table& table) {
  const int64_t id = change.task.id();
  auto found = table.find(id);
  const std::string what = Describe(change);
  switch (change.type) {
    case v1::TaskEvent::CREATED:
      if (found != table.end()) {
        return absl::InternalError(absl::StrCat("created twice: ", what));
      }
      table[id] = change.task;
      return absl::OkStatus();
    case v1::TaskEvent::UPDATED:
      if (found == table.end() || ParseEtag(change.task.etag()) !=
                                      *ParseEtag(found->second.etag()) + 1) {
        return absl::InternalError(absl::StrCat("not the next update: ", what));
      }
      found->second = change.task;
      return absl::OkStatus();
    case v1::TaskEvent::DELETED:
      if (found == table.end()) {
        return absl::InternalError(absl::StrCat("deleted unknown: ", what));
      }
      table.erase(found);
      return absl::OkStatus();
    default:
      return absl::InternalError(absl::StrCat("no type: ", what));
  }
}

TEST_P(TaskStoreTest, ListPositionsPlusLaterChangesGiveTheFinalTable) {
  // Two replicas writing, each numbering the log now and then, while lists
  // are taken: every list's rows plus the changes after its token must be
  // the final table, none missing and none twice.
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr first, OpenSociTaskStore(connection));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr second, OpenSociTaskStore(connection));
  TaskStore* stores[] = {first.get(), second.get()};
  constexpr int kWriters = 4;
  constexpr int kTasksPerWriter = 30;
  constexpr int kMaxLists = 100;
  std::atomic<int> writers_left{kWriters};
  absl::Mutex mu;
  std::vector<std::string> errors;
  auto fail = [&](const absl::Status& status) {
    absl::MutexLock lock(&mu);
    errors.push_back(status.ToString());
  };
  std::vector<v1::ListTasksResponse> lists;
  int sequenced = 0;
  int reflected = 0;

  std::thread sequencer([&] {
    for (int i = 0; writers_left.load() > 0; ++i) {
      absl::StatusOr<int> count = stores[i % 2]->SequenceChanges();
      if (!count.ok()) fail(count.status());
      if (count.ok()) sequenced += *count;
      absl::SleepFor(absl::Milliseconds(3));  // Pacing, not a handshake.
    }
  });
  std::thread reader([&] {
    v1::ListTasksRequest request;
    request.set_page_size(1000);
    // At most kMaxLists, each checked at the end.
    for (int i = 0; writers_left.load() > 0 && i < kMaxLists; ++i) {
      absl::StatusOr<v1::ListTasksResponse> list =
          stores[i % 2]->ListTasks(request);
      if (!list.ok()) {
        fail(list.status());
        continue;
      }
      absl::StatusOr<ChangePosition> position =
          ChangePosition::Decode(list->resume_token());
      if (position.ok()) reflected += position->reflected_ids().size();
      {
        absl::MutexLock lock(&mu);
        lists.push_back(*std::move(list));
      }
      absl::SleepFor(absl::Milliseconds(2));  // Pacing, not a handshake.
    }
  });
  RunThreads(kWriters, [&](int thread) {
    TaskStore& store = *stores[thread % 2];
    for (int i = 0; i < kTasksPerWriter; ++i) {
      absl::StatusOr<v1::Task> task =
          store.CreateTask(TaskBuilder(absl::StrCat(thread, "/", i)), "");
      if (!task.ok()) {
        fail(task.status());
        continue;
      }
      for (int update = 0; update < 2; ++update) {
        v1::Task change = *task;
        change.set_description(absl::StrCat("update ", update));
        task = store.UpdateTask(change, MaskOf({"description"}), kEveryRow);
        if (!task.ok()) {
          fail(task.status());
          break;
        }
      }
      if (task.ok() && i % 3 == 0) {
        absl::Status deleted = store.DeleteTask(task->id(), kEveryRow);
        if (!deleted.ok()) fail(deleted);
      }
    }
    writers_left.fetch_sub(1);
  });
  sequencer.join();
  reader.join();
  ASSERT_THAT(errors, IsEmpty());

  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> final_tasks,
                       ListAllTasks(*first, v1::ListTasksRequest()));
  Table expected;
  for (const v1::Task& task : final_tasks) expected[task.id()] = task;
  std::cout << "FIGURE " << lists.size() << " lists checked, " << sequenced
            << " changes numbered while writing, " << reflected
            << " unnumbered changes reflected by list positions in all\n";
  ASSERT_FALSE(lists.empty());
  for (size_t i = 0; i < lists.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("list ", i));
    Table table;
    for (const v1::Task& task : lists[i].tasks()) table[task.id()] = task;
    ASSERT_OK_AND_ASSIGN(ChangePosition position,
                         ChangePosition::Decode(lists[i].resume_token()));
    ASSERT_OK_AND_ASSIGN(std::vector<TaskChange> changes,
                         ChangesAfter(*stores[i % 2], position));
    for (const TaskChange& change : changes) {
      ASSERT_OK(Apply(change, table));
    }
    ASSERT_EQ(table.size(), expected.size());
    for (const auto& [id, task] : expected) {
      EXPECT_THAT(table[id], EqualsProto(task));
    }
  }

  // The whole log, in seq order, follows each task's own history.
  ChangePosition start;
  ASSERT_OK_AND_ASSIGN(std::vector<TaskChange> log,
                       ChangesAfter(*second, start));
  Table replayed;
  for (const TaskChange& change : log) ASSERT_OK(Apply(change, replayed));
  EXPECT_EQ(replayed.size(), expected.size());
}

}  // namespace
}  // namespace tasks::storage
