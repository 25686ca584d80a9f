// WatchTasks through a real server and channel, on each backend: every
// kind of write reported once and in commit order, filters, scopes, resume
// tokens, caps, shutdown, and a client that does not read.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/auth.h"
#include "service/server_metrics.h"
#include "service/task_watchers.h"
#include "storage/soci_task_store.h"
#include "storage/task_changes.h"
#include "tasks/v1/tasks.grpc.pb.h"
#include "tests/service/service_test_fixture.h"
#include "tests/testing/figure.h"
#include "tests/testing/grpc_status_matchers.h"
#include "tests/testing/stderr_capture.h"
#include "tests/testing/store_backends.h"

namespace tasks::service {
namespace {

using ::tasks::testing::GrpcErrorIs;
using ::tasks::testing::GrpcInvalidField;
using ::tasks::testing::GrpcOk;
using ::tasks::testing::StoreBackend;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

const bool kEnvironmentRegistered =
    ::tasks::testing::RegisterStoreBackendEnvironment();

constexpr absl::Duration kWait = absl::Seconds(30);

// One WatchTasks stream, read on a thread of its own once StartReading()
// is called (until then the client reads nothing).
class EventStream {
 public:
  EventStream(Stub& stub, const v1::WatchTasksRequest& request,
              const std::string& token = "") {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + 2 * kWait));
    if (!token.empty()) {
      context_.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    }
    reader_ = stub.WatchTasks(&context_, request);
  }

  ~EventStream() {
    context_.TryCancel();
    if (!reading_) StartReading();  // Finish() must be called.
    thread_.join();
  }

  // Waits for the response headers, which the server sends once the stream
  // is positioned: a later write is reported. Before StartReading().
  void WaitPositioned() { reader_->WaitForInitialMetadata(); }

  void StartReading() {
    reading_ = true;
    thread_ = std::thread([this] {
      v1::TaskEvent event;
      while (reader_->Read(&event)) {
        absl::MutexLock lock(&mu_);
        events_.push_back(event);
      }
      grpc::Status status = reader_->Finish();
      absl::MutexLock lock(&mu_);
      status_ = std::move(status);
      done_ = true;
    });
  }

  // Every event so far, once there are at least `count` (or the stream has
  // ended, or kWait has passed).
  std::vector<v1::TaskEvent> Take(size_t count) {
    if (!reading_) StartReading();
    absl::MutexLock lock(&mu_);
    want_ = count;
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](EventStream* stream) {
                               return stream->done_ ||
                                      stream->events_.size() >= stream->want_;
                             },
                             this),
                         kWait);
    return events_;
  }

  // The stream's status once it has ended (DEADLINE_EXCEEDED after kWait).
  grpc::Status Status() {
    if (!reading_) StartReading();
    absl::MutexLock lock(&mu_);
    if (!mu_.AwaitWithTimeout(absl::Condition(&done_), kWait)) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "still open");
    }
    return status_;
  }

  void Cancel() { context_.TryCancel(); }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::TaskEvent>> reader_;
  std::thread thread_;
  bool reading_ = false;
  absl::Mutex mu_;
  std::vector<v1::TaskEvent> events_ ABSL_GUARDED_BY(mu_);
  size_t want_ ABSL_GUARDED_BY(mu_) = 0;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

// "CREATED 3" for an event of task 3.
std::string Describe(const v1::TaskEvent& event) {
  return absl::StrCat(v1::TaskEvent::Type_Name(event.type()), " ",
                      event.task().id());
}

std::vector<std::string> Describe(const std::vector<v1::TaskEvent>& events) {
  std::vector<std::string> out;
  for (const v1::TaskEvent& event : events) out.push_back(Describe(event));
  return out;
}

v1::WatchTasksRequest WatchFrom(const std::string& resume_token,
                                const std::string& filter = "") {
  v1::WatchTasksRequest request;
  request.set_resume_token(resume_token);
  request.set_filter(filter);
  return request;
}

class WatchTasksTest
    : public TaskServerTest<::testing::TestWithParam<StoreBackend>> {
 protected:
  // A server on a fresh database (SQLite in memory) whose store the test can
  // reach too.
  void StartWith(ServerConfig config) {
    absl::StatusOr<std::string> connection =
        ::tasks::testing::FreshStoreDatabase(
            GetParam(), ::tasks::testing::StoreLocation::kPrivate);
    ASSERT_TRUE(connection.ok()) << connection.status();
    config.open_store =
        [this,
         connection = *connection]() -> absl::StatusOr<storage::TaskStorePtr> {
      absl::StatusOr<storage::TaskStorePtr> store =
          storage::OpenSociTaskStore(connection);
      if (store.ok()) store_ = store->get();
      return store;
    };
    config.reads_on_queue_threads = GetParam() == StoreBackend::kSqlite;
    ASSERT_NO_FATAL_FAILURE(StartServer(std::move(config)));
  }

  void SetUp() override { ASSERT_NO_FATAL_FAILURE(StartWith(ServerConfig())); }

  void TearDown() override {
    TaskServerTest::TearDown();
    ::tasks::testing::ReleaseFreshStoreDatabases();
  }

  // The present, as ListTasks gives it.
  std::string ListToken(const std::string& token = "") {
    v1::ListTasksResponse response;
    EXPECT_THAT(
        Call(token, &Stub::ListTasks, v1::ListTasksRequest(), &response),
        GrpcOk());
    EXPECT_FALSE(response.resume_token().empty());
    return response.resume_token();
  }

  int64_t CreateProject(const std::string& name,
                        const std::string& token = "") {
    v1::CreateProjectRequest request;
    request.mutable_project()->set_name(name);
    v1::Project project;
    EXPECT_THAT(Call(token, &Stub::CreateProject, request, &project), GrpcOk());
    return project.id();
  }

  v1::Task CreateTask(const std::string& title, int64_t project_id = 0,
                      v1::Task::Priority priority = v1::Task::MEDIUM,
                      const std::string& token = "") {
    v1::CreateTaskRequest request;
    request.mutable_task()->set_title(title);
    request.mutable_task()->set_priority(priority);
    if (project_id > 0) request.mutable_task()->set_project_id(project_id);
    v1::Task task;
    EXPECT_THAT(Call(token, &Stub::CreateTask, request, &task), GrpcOk());
    return task;
  }

  void UpdateTask(v1::Task task, const std::string& path,
                  const std::string& token = "") {
    v1::UpdateTaskRequest request;
    *request.mutable_task() = std::move(task);
    request.mutable_update_mask()->add_paths(path);
    EXPECT_THAT(Call(token, &Stub::UpdateTask, request), GrpcOk());
  }

  // Waits until the server counts `open` streams (it frees a cancelled one
  // when it learns of the cancel, a little after the client).
  void WaitUntilOpen(int open) {
    const absl::Time deadline = absl::Now() + kWait;
    while (server_->watcher_stats().open != open && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    ASSERT_EQ(server_->watcher_stats().open, open);
  }

  storage::TaskStore* store_ = nullptr;
};

TEST_P(WatchTasksTest, EveryKindOfWriteIsReportedOnceInCommitOrder) {
  const int64_t project = CreateProject("home");
  const std::string token = ListToken();
  EventStream stream(stub(), WatchFrom(token));
  stream.StartReading();

  v1::Task one = CreateTask("one", project);
  v1::BatchCreateTasksRequest batch;
  for (const char* title : {"two", "three"}) {
    v1::CreateTaskRequest* create = batch.add_requests();
    create->mutable_task()->set_title(title);
    create->mutable_task()->set_project_id(project);
  }
  v1::BatchCreateTasksResponse created;
  ASSERT_THAT(Call(&Stub::BatchCreateTasks, batch, &created), GrpcOk());
  ASSERT_EQ(created.tasks_size(), 2);
  const int64_t two = created.tasks(0).id();
  const int64_t three = created.tasks(1).id();
  one.set_title("one, renamed");
  UpdateTask(one, "title");
  v1::DeleteTaskRequest delete_two;
  delete_two.set_id(two);
  ASSERT_THAT(Call(&Stub::DeleteTask, delete_two), GrpcOk());
  v1::DeleteProjectRequest cascade;
  cascade.set_id(project);
  cascade.set_force(true);
  ASSERT_THAT(Call(&Stub::DeleteProject, cascade), GrpcOk());

  const std::vector<v1::TaskEvent> events = stream.Take(7);
  ASSERT_EQ(events.size(), 7u) << ::testing::PrintToString(Describe(events));
  const std::vector<std::string> described = Describe(events);
  EXPECT_THAT(
      std::vector<std::string>(described.begin(), described.begin() + 5),
      ElementsAre(
          absl::StrCat("CREATED ", one.id()), absl::StrCat("CREATED ", two),
          absl::StrCat("CREATED ", three), absl::StrCat("UPDATED ", one.id()),
          absl::StrCat("DELETED ", two)));
  EXPECT_THAT(std::vector<std::string>(described.begin() + 5, described.end()),
              UnorderedElementsAre(absl::StrCat("DELETED ", one.id()),
                                   absl::StrCat("DELETED ", three)));
  EXPECT_EQ(events[3].task().title(), "one, renamed");
  // A delete carries the task as it was.
  EXPECT_EQ(events[4].task().project_id(), project);
  std::vector<std::string> tokens;
  for (const v1::TaskEvent& event : events) {
    EXPECT_FALSE(event.resume_token().empty());
    tokens.push_back(event.resume_token());
  }
  std::sort(tokens.begin(), tokens.end());
  EXPECT_EQ(std::unique(tokens.begin(), tokens.end()), tokens.end());

  // Nothing more: the next event is the next write's.
  const v1::Task sentinel = CreateTask("sentinel");
  const std::vector<v1::TaskEvent> more = stream.Take(8);
  ASSERT_EQ(more.size(), 8u);
  EXPECT_EQ(Describe(more[7]), absl::StrCat("CREATED ", sentinel.id()));
}

TEST_P(WatchTasksTest, WithoutTokenStartsAtThePresent) {
  CreateTask("before");
  EventStream stream(stub(), v1::WatchTasksRequest());
  stream.WaitPositioned();
  const v1::Task after = CreateTask("after");
  const std::vector<v1::TaskEvent> events = stream.Take(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(Describe(events[0]), absl::StrCat("CREATED ", after.id()));
}

TEST_P(WatchTasksTest, FilterSelectsTheEventsByTheTaskAfterTheChange) {
  const std::string token = ListToken();
  EventStream stream(stub(), WatchFrom(token, "priority >= HIGH"));
  stream.StartReading();
  v1::Task low = CreateTask("low", 0, v1::Task::LOW);
  const v1::Task high = CreateTask("high", 0, v1::Task::HIGH);
  low.set_priority(v1::Task::HIGH);
  UpdateTask(low, "priority");  // Matches from now on.
  const std::vector<v1::TaskEvent> events = stream.Take(2);
  EXPECT_THAT(Describe(events),
              ElementsAre(absl::StrCat("CREATED ", high.id()),
                          absl::StrCat("UPDATED ", low.id())));
}

TEST_P(WatchTasksTest, FilterThatDoesNotParseIsInvalidArgumentWithPosition) {
  EventStream stream(stub(), WatchFrom("", "priority >= "));
  const grpc::Status status = stream.Status();
  EXPECT_THAT(status, GrpcInvalidField("filter", reason::kInvalidArgument));
  EXPECT_THAT(status.error_message(), HasSubstr("position"));
}

TEST_P(WatchTasksTest, MalformedResumeTokenIsInvalidArgument) {
  for (const char* token : {"not a token", "Yzk", "YzEuLTE"}) {
    EventStream stream(stub(), WatchFrom(token));
    EXPECT_THAT(stream.Status(),
                GrpcInvalidField("resume_token", reason::kInvalidResumeToken))
        << token;
  }
}

// A well-formed token beyond every change (forged, or of a database since
// recreated) would leave the stream waiting for changes past it, skipping
// every one up to it without a word; it is refused, whether the server's
// feed is reading (a stream is open) or not.
TEST_P(WatchTasksTest, TokenAheadOfTheChangeLogIsInvalidArgument) {
  CreateTask("before");
  absl::StatusOr<storage::ChangePosition> present =
      storage::ChangePosition::Decode(ListToken());
  ASSERT_TRUE(present.ok()) << present.status();
  const std::string ahead =
      storage::ChangePosition(present->seq() + 50, {}).Encode();
  const std::string farthest = storage::ChangePosition(INT64_MAX, {}).Encode();
  auto expect_refused = [&](const char* when) {
    for (const std::string& token : {ahead, farthest}) {
      EventStream stream(stub(), WatchFrom(token));
      EXPECT_THAT(stream.Status(),
                  GrpcInvalidField("resume_token", reason::kInvalidResumeToken))
          << when;
    }
  };
  expect_refused("no stream open");
  // A stream open and up to date: the feed has read through the present.
  EventStream open(stub(), WatchFrom(ListToken()));
  const v1::Task after = CreateTask("after");
  ASSERT_THAT(Describe(open.Take(1)),
              ElementsAre(absl::StrCat("CREATED ", after.id())));
  expect_refused("a stream open");
  // The present itself is resumed from.
  EventStream at_present(stub(), WatchFrom(ListToken()));
  at_present.WaitPositioned();
  const v1::Task last = CreateTask("last");
  EXPECT_THAT(Describe(at_present.Take(1)),
              ElementsAre(absl::StrCat("CREATED ", last.id())));
}

TEST_P(WatchTasksTest, ListThenWatchFromItsTokenReportsExactlyTheLaterChanges) {
  v1::Task first = CreateTask("first");
  CreateTask("second");
  const std::string token = ListToken();
  const v1::Task third = CreateTask("third");
  first.set_title("first, renamed");
  UpdateTask(first, "title");

  EventStream stream(stub(), WatchFrom(token));
  const std::vector<v1::TaskEvent> events = stream.Take(2);
  EXPECT_THAT(Describe(events),
              ElementsAre(absl::StrCat("CREATED ", third.id()),
                          absl::StrCat("UPDATED ", first.id())));
  const v1::Task sentinel = CreateTask("sentinel");
  const std::vector<v1::TaskEvent> more = stream.Take(3);
  ASSERT_EQ(more.size(), 3u);
  EXPECT_EQ(Describe(more[2]), absl::StrCat("CREATED ", sentinel.id()));
}

TEST_P(WatchTasksTest, ResumingFromAnEventsTokenContinuesRightAfterIt) {
  const std::string token = ListToken();
  std::vector<int64_t> ids;
  for (int i = 0; i < 4; ++i)
    ids.push_back(CreateTask(absl::StrCat("t", i)).id());
  std::string resume;
  {
    EventStream stream(stub(), WatchFrom(token));
    const std::vector<v1::TaskEvent> events = stream.Take(2);
    ASSERT_GE(events.size(), 2u);
    EXPECT_EQ(events[1].task().id(), ids[1]);
    resume = events[1].resume_token();
    stream.Cancel();
    EXPECT_EQ(stream.Status().error_code(), grpc::StatusCode::CANCELLED);
  }
  EventStream resumed(stub(), WatchFrom(resume));
  const std::vector<v1::TaskEvent> events = resumed.Take(2);
  EXPECT_THAT(Describe(events), ElementsAre(absl::StrCat("CREATED ", ids[2]),
                                            absl::StrCat("CREATED ", ids[3])));
}

TEST_P(WatchTasksTest, TokenPastTheRetentionIsOutOfRange) {
  const std::string token = ListToken();
  CreateTask("trimmed");
  ASSERT_NE(store_, nullptr);
  // Only numbered changes are trimmed (PostgreSQL numbers them as a feed
  // reads them, and none reads without a watcher).
  ASSERT_TRUE(store_->SequenceChanges().ok());
  ASSERT_TRUE(store_->TrimChanges(absl::Now() + absl::Seconds(1)).ok());
  CreateTask("kept");
  EventStream stream(stub(), WatchFrom(token));
  EXPECT_THAT(stream.Status(), GrpcErrorIs(grpc::StatusCode::OUT_OF_RANGE,
                                           reason::kResumeTokenExpired));
}

TEST_P(WatchTasksTest, WriteOnThisServerReachesAWatcherWithoutPolling) {
  ServerConfig config;
  config.watch_poll_interval = absl::Hours(1);
  ASSERT_NO_FATAL_FAILURE(StartWith(std::move(config)));
  EventStream stream(stub(), v1::WatchTasksRequest());
  stream.WaitPositioned();
  stream.StartReading();
  std::vector<double> latencies_ms;
  for (int i = 0; i < 20; ++i) {
    CreateTask(absl::StrCat("t", i));
    const absl::Time written = absl::Now();
    const std::vector<v1::TaskEvent> events = stream.Take(i + 1);
    ASSERT_EQ(events.size(), static_cast<size_t>(i + 1));
    latencies_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - written));
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  ::tasks::testing::ReportFigure(
      absl::StrCat("write returned -> event received, 20 writes: median ",
                   latencies_ms[10], " ms, max ", latencies_ms.back(), " ms"));
  EXPECT_LT(latencies_ms[10], 1000);  // The poll would take an hour.
}

// With no poll in the test's time, each write a stream of one project can
// see must wake the feed itself: each says which project it wrote, the
// task's project after the write (a move into it, each project of a batch),
// and a delete by id, whose project it does not know, wakes it anyway.
TEST_P(WatchTasksTest, EveryWriteToAWatchedProjectWakesTheFeed) {
  ServerConfig config;
  config.watch_poll_interval = absl::Hours(1);
  ASSERT_NO_FATAL_FAILURE(StartWith(std::move(config)));
  const int64_t watched = CreateProject("watched");
  const int64_t other = CreateProject("other");
  EventStream stream(stub(),
                     WatchFrom("", absl::StrCat("project_id = ", watched)));
  stream.WaitPositioned();
  stream.StartReading();

  const v1::Task created = CreateTask("created", watched);
  ASSERT_THAT(Describe(stream.Take(1)),
              ElementsAre(absl::StrCat("CREATED ", created.id())));

  v1::Task moved = CreateTask("moved", other);
  moved.set_project_id(watched);
  UpdateTask(moved, "project_id");
  ASSERT_THAT(Describe(stream.Take(2)).back(),
              absl::StrCat("UPDATED ", moved.id()));

  v1::BatchCreateTasksRequest batch;
  for (int64_t project : {other, watched}) {
    v1::Task* task = batch.add_requests()->mutable_task();
    task->set_title(absl::StrCat("batch ", project));
    task->set_project_id(project);
  }
  v1::BatchCreateTasksResponse batched;
  ASSERT_THAT(Call("", &Stub::BatchCreateTasks, batch, &batched), GrpcOk());
  ASSERT_THAT(Describe(stream.Take(3)).back(),
              absl::StrCat("CREATED ", batched.tasks(1).id()));

  v1::DeleteTaskRequest delete_task;
  delete_task.set_id(created.id());
  ASSERT_THAT(Call("", &Stub::DeleteTask, delete_task), GrpcOk());
  ASSERT_THAT(Describe(stream.Take(4)).back(),
              absl::StrCat("DELETED ", created.id()));

  v1::DeleteProjectRequest delete_project;
  delete_project.set_id(watched);
  delete_project.set_force(true);
  ASSERT_THAT(Call("", &Stub::DeleteProject, delete_project), GrpcOk());
  const std::vector<std::string> events = Describe(stream.Take(6));
  ASSERT_EQ(events.size(), 6u);
  EXPECT_THAT(
      std::vector<std::string>(events.begin() + 4, events.end()),
      UnorderedElementsAre(absl::StrCat("DELETED ", moved.id()),
                           absl::StrCat("DELETED ", batched.tasks(1).id())));
}

TEST_P(WatchTasksTest, WriteThroughAnotherServerOfTheDatabaseArrives) {
  // Two servers on one database: a SQLite file, or one PostgreSQL database.
  absl::StatusOr<std::string> connection = ::tasks::testing::FreshStoreDatabase(
      GetParam(), ::tasks::testing::StoreLocation::kShared);
  ASSERT_TRUE(connection.ok()) << connection.status();
  auto config_for = [&] {
    ServerConfig config;
    config.open_store = [connection = *connection] {
      return storage::OpenSociTaskStore(connection);
    };
    config.reads_on_queue_threads = GetParam() == StoreBackend::kSqlite;
    return config;
  };
  ASSERT_NO_FATAL_FAILURE(StartServer(config_for()));
  std::unique_ptr<TaskServer> other = StartOrFail(config_for());
  ASSERT_NE(other, nullptr);
  std::unique_ptr<Stub> other_stub =
      v1::TaskService::NewStub(other->InProcessChannel());

  EventStream stream(stub(), v1::WatchTasksRequest());
  stream.WaitPositioned();
  stream.StartReading();
  // Writes through the other server; returns how long the event took.
  auto write_there = [&](const std::string& title) -> absl::Duration {
    v1::CreateTaskRequest create;
    create.mutable_task()->set_title(title);
    v1::Task task;
    EXPECT_THAT(Call(&Stub::CreateTask, create, &task, other_stub.get()),
                GrpcOk());
    const absl::Time written = absl::Now();
    const size_t seen = stream.Take(0).size();
    const std::vector<v1::TaskEvent> events = stream.Take(seen + 1);
    const absl::Duration took = absl::Now() - written;
    EXPECT_EQ(events.size(), seen + 1);
    if (events.size() == seen + 1) {
      EXPECT_EQ(Describe(events.back()), absl::StrCat("CREATED ", task.id()));
    }
    return took;
  };
  // The other server has no stream: its write is found by this one's poll
  // (250 ms), which on PostgreSQL numbers it and NOTIFYs.
  const absl::Duration polled = write_there("found by the poll");
  // With a stream there, its own feed numbers its write at once, and on
  // PostgreSQL the NOTIFY wakes this server.
  EventStream there(*other_stub, v1::WatchTasksRequest());
  there.WaitPositioned();
  const absl::Duration notified = write_there("notified");
  ::tasks::testing::ReportFigure(absl::StrCat(
      "write on the other server -> event here: ",
      absl::ToDoubleMilliseconds(polled), " ms without a stream there, ",
      absl::ToDoubleMilliseconds(notified), " ms with one"));
  EXPECT_LT(polled, absl::Seconds(5));
  EXPECT_LT(notified, absl::Seconds(5));
  other->Shutdown();
}

constexpr char kAdminToken[] = "admin-token-0123456789";
constexpr char kBlueToken[] = "blue-token-0123456789ab";
constexpr char kGreenToken[] = "green-token-0123456789a";

class WatchTasksAuthTest : public WatchTasksTest {
 protected:
  void SetUp() override {
    absl::StatusOr<TokenTable> tokens =
        TokenTable::Parse(absl::StrCat(kAdminToken, " admin *\n", kBlueToken,
                                       " blue 1\n", kGreenToken, " green 2\n"));
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    ServerConfig config;
    config.auth_tokens = std::make_shared<const TokenTable>(*std::move(tokens));
    config.max_watchers_per_principal = 1;
    ASSERT_NO_FATAL_FAILURE(StartWith(std::move(config)));
  }
};

TEST_P(WatchTasksAuthTest, WatcherSeesOnlyTheProjectsItsTokenMayUse) {
  const int64_t one = CreateProject("one", kAdminToken);
  const int64_t two = CreateProject("two", kAdminToken);
  ASSERT_EQ(one, 1);
  EventStream stream(stub(), WatchFrom(ListToken(kBlueToken)), kBlueToken);
  stream.StartReading();
  v1::Task mine = CreateTask("mine", one, v1::Task::LOW, kAdminToken);
  CreateTask("theirs", two, v1::Task::LOW, kAdminToken);
  CreateTask("nobody's", 0, v1::Task::LOW, kAdminToken);
  mine.set_project_id(two);
  UpdateTask(mine, "project_id", kAdminToken);  // Out of reach after it.
  const v1::Task sentinel =
      CreateTask("sentinel", one, v1::Task::LOW, kAdminToken);
  const std::vector<v1::TaskEvent> events = stream.Take(2);
  EXPECT_THAT(Describe(events),
              ElementsAre(absl::StrCat("CREATED ", mine.id()),
                          absl::StrCat("CREATED ", sentinel.id())));
}

TEST_P(WatchTasksAuthTest, WatchWithoutTokenIsUnauthenticated) {
  EventStream stream(stub(), v1::WatchTasksRequest());
  EXPECT_THAT(stream.Status(), GrpcErrorIs(grpc::StatusCode::UNAUTHENTICATED,
                                           reason::kUnauthenticated));
}

TEST_P(WatchTasksAuthTest, PrincipalCapIsPerPrincipalAndFreedOnCancel) {
  ASSERT_EQ(CreateProject("one", kAdminToken), 1);
  auto blue = std::make_unique<EventStream>(stub(), v1::WatchTasksRequest(),
                                            kBlueToken);
  blue->WaitPositioned();
  EventStream green(stub(), v1::WatchTasksRequest(), kGreenToken);
  green.WaitPositioned();  // Another principal's own cap.
  {
    EventStream second(stub(), v1::WatchTasksRequest(), kBlueToken);
    EXPECT_THAT(second.Status(),
                GrpcErrorIs(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            reason::kTooManyWatchers));
  }
  blue->Cancel();
  EXPECT_EQ(blue->Status().error_code(), grpc::StatusCode::CANCELLED);
  blue.reset();
  // The server frees the stream when it learns of the cancel.
  WaitUntilOpen(1);
  EventStream again(stub(), v1::WatchTasksRequest(), kBlueToken);
  again.WaitPositioned();
  const v1::Task task = CreateTask("task", 1, v1::Task::LOW, kAdminToken);
  const std::vector<v1::TaskEvent> events = again.Take(1);
  ASSERT_EQ(events.size(), 1u) << again.Status().error_message();
  EXPECT_EQ(events[0].task().id(), task.id());
}

TEST_P(WatchTasksTest, ServerCapIsResourceExhaustedAndFreedOnCancel) {
  ServerConfig config;
  config.max_watchers = 2;
  ASSERT_NO_FATAL_FAILURE(StartWith(std::move(config)));
  auto first = std::make_unique<EventStream>(stub(), v1::WatchTasksRequest());
  first->WaitPositioned();
  EventStream second(stub(), v1::WatchTasksRequest());
  second.WaitPositioned();
  {
    EventStream third(stub(), v1::WatchTasksRequest());
    EXPECT_THAT(third.Status(),
                GrpcErrorIs(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            reason::kTooManyWatchers));
  }
  EXPECT_EQ(server_->watcher_stats().open, 2);
  first.reset();  // Cancels.
  WaitUntilOpen(1);
  EventStream fourth(stub(), v1::WatchTasksRequest());
  fourth.WaitPositioned();
  EXPECT_EQ(server_->watcher_stats().open, 2);
}

TEST_P(WatchTasksTest, ShutdownEndsWatchersWithUnavailablePromptly) {
  std::vector<std::unique_ptr<EventStream>> streams;
  for (int i = 0; i < 3; ++i) {
    streams.push_back(
        std::make_unique<EventStream>(stub(), v1::WatchTasksRequest()));
    streams.back()->WaitPositioned();
  }
  const absl::Time start = absl::Now();
  StopServer();
  const absl::Duration took = absl::Now() - start;
  for (const auto& stream : streams) {
    EXPECT_EQ(stream->Status().error_code(), grpc::StatusCode::UNAVAILABLE);
  }
  ::tasks::testing::ReportFigure(absl::StrCat(
      "shutdown with 3 watchers: ", absl::ToInt64Milliseconds(took), " ms"));
  // The drain timeout is 10 s: the streams did not hold it up.
  EXPECT_LT(took, absl::Seconds(5));
}

TEST_P(WatchTasksTest, ClientThatDoesNotReadCostsOneEventAndGetsAllLater) {
  const std::string token = ListToken();
  EventStream stream(stub(), WatchFrom(token));
  stream.WaitPositioned();
  // More than the feed's ring holds: the reader ends up behind it.
  constexpr int kBatches = 10;
  constexpr int kPerBatch = 500;
  for (int b = 0; b < kBatches; ++b) {
    v1::BatchCreateTasksRequest batch;
    for (int i = 0; i < kPerBatch; ++i) {
      batch.add_requests()->mutable_task()->set_title(
          absl::StrCat("task ", b, ".", i));
    }
    ASSERT_THAT(Call(&Stub::BatchCreateTasks, batch), GrpcOk());
  }
  const TaskWatchers::Stats unread = server_->watcher_stats();
  const std::vector<v1::TaskEvent> events = stream.Take(kBatches * kPerBatch);
  const TaskWatchers::Stats read = server_->watcher_stats();
  ::tasks::testing::ReportFigure(
      absl::StrCat(kBatches * kPerBatch,
                   " writes to a client not reading: ", unread.events_sent,
                   " events written by the server meanwhile, most in "
                   "flight per stream ",
                   read.max_writes_in_flight,
                   ", most held from the "
                   "store ",
                   read.max_backlog));
  EXPECT_LE(read.max_writes_in_flight, 1);
  EXPECT_LE(read.max_backlog, TaskWatchers::kStoreReadLimit);
  ASSERT_EQ(events.size(), static_cast<size_t>(kBatches * kPerBatch));
  for (size_t i = 1; i < events.size(); ++i) {
    ASSERT_LT(events[i - 1].task().id(), events[i].task().id()) << i;
  }
}

TEST_P(WatchTasksTest, OpenWatchersAreAGaugeAndACancelledOneIsLogged) {
  ServerConfig config;
  config.metrics = std::make_shared<ServerMetrics>();
  std::shared_ptr<ServerMetrics> metrics = config.metrics;
  ASSERT_NO_FATAL_FAILURE(StartWith(std::move(config)));
  ::tasks::testing::StderrCapture capture;
  {
    EventStream stream(stub(), v1::WatchTasksRequest());
    stream.WaitPositioned();
    EXPECT_THAT(metrics->Scrape(), HasSubstr("tasks_watchers_open 1"));
    stream.Cancel();
    EXPECT_EQ(stream.Status().error_code(), grpc::StatusCode::CANCELLED);
  }
  WaitUntilOpen(0);
  StopServer();  // Every call freed, and logged.
  const std::string log = capture.Stop();
  EXPECT_THAT(log, HasSubstr("/tasks.v1.TaskService/WatchTasks CANCELLED"));
  const std::string scraped = metrics->Scrape();
  EXPECT_THAT(scraped, HasSubstr("tasks_watchers_open 0"));
  EXPECT_THAT(scraped,
              HasSubstr("grpc_code=\"CANCELLED\",grpc_method=\"WatchTasks\""));
}

std::string BackendName(const ::testing::TestParamInfo<StoreBackend>& info) {
  return ::tasks::testing::StoreBackendName(info.param);
}

INSTANTIATE_TEST_SUITE_P(
    Backends, WatchTasksTest,
    ::testing::ValuesIn(::tasks::testing::SelectedStoreBackends()),
    BackendName);
INSTANTIATE_TEST_SUITE_P(
    Backends, WatchTasksAuthTest,
    ::testing::ValuesIn(::tasks::testing::SelectedStoreBackends()),
    BackendName);

}  // namespace
}  // namespace tasks::service
