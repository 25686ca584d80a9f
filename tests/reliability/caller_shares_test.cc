// Per caller, what a real task_server shares: one principal flooding it with
// more calls than its capacity (the places to wait for a list slot, the
// worker threads) cannot have another principal's calls refused. Figures:
// each caller's outcomes.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tasks/v1/tasks.grpc.pb.h"
#include "tests/reliability/reliability_test_base.h"

namespace tasks::reliability {
namespace {

constexpr char kGreedy[] = "share-greedy-token-0123";
constexpr char kPolite[] = "share-polite-token-0123";

using Stub = v1::TaskService::Stub;

// `method` called with `token`'s bearer metadata and a 30 s deadline.
template <typename Method, typename Request, typename Response>
grpc::Status CallAs(Stub& stub, const char* token, Method method,
                    const Request& request, Response* response) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  return (stub.*method)(&context, request, response);
}

// Threads repeating one caller's call until destroyed (from `start`'s
// notification, when given), its outcomes counted by kind. A refusal for
// its share, for every worker being busy, or for the replies its one
// connection has not read yet (on a loaded machine: its own doing), backs
// off 50 ms as a client would.
class Flood {
 public:
  Flood(int threads, std::function<grpc::Status()> call,
        const absl::Notification* start = nullptr) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this, call, start] {
        if (start != nullptr) start->WaitForNotification();
        while (flooding_) Count(call());
      });
    }
  }
  ~Flood() { Stop(); }

  void Stop() {
    flooding_ = false;
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
  }

  std::string Summary() const {
    return absl::StrFormat(
        "%d OK, %d refused over its share, %d for its unread replies, %d "
        "with every worker busy, %d other",
        ok.load(), over_share.load(), unread.load(), all_busy.load(),
        other.load());
  }
  std::string first_other() const {
    absl::MutexLock lock(&mu_);
    return first_other_;
  }

  std::atomic<int> ok{0};
  std::atomic<int> over_share{0};
  std::atomic<int> unread{0};
  std::atomic<int> all_busy{0};
  std::atomic<int> other{0};

 private:
  void Count(const grpc::Status& status) {
    if (status.ok()) {
      ++ok;
    } else if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
               absl::StrContains(status.error_message(), "share")) {
      ++over_share;
      absl::SleepFor(absl::Milliseconds(50));
    } else if (absl::StrContains(status.error_message(), "not yet read")) {
      ++unread;
      absl::SleepFor(absl::Milliseconds(50));
    } else if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
               absl::StrContains(status.error_message(),
                                 "every worker thread")) {
      ++all_busy;
      absl::SleepFor(absl::Milliseconds(50));
    } else if (++other == 1) {
      absl::MutexLock lock(&mu_);
      first_other_ = status.error_message();
    }
  }

  std::atomic<bool> flooding_{true};
  std::vector<std::thread> threads_;
  mutable absl::Mutex mu_;
  std::string first_other_ ABSL_GUARDED_BY(mu_);
};

class CallerSharesTest : public ReliabilityTest {
 protected:
  // A server whose tokens name two principals, "greedy" and "polite" (or
  // only the one, as `the_one`), each reaching every project, and the
  // principals of `more_tokens` ("<token> <name> *" lines), with `flags`; a
  // stub of its own for each of the two tokens.
  void StartServerForTwo(std::vector<std::string> flags,
                         const char* the_one = nullptr,
                         const std::string& more_tokens = "") {
    const std::string tokens =
        absl::StrCat(std::getenv("TEST_TMPDIR"), "/share_tokens");
    if (the_one != nullptr) {
      std::ofstream(tokens) << kGreedy << " " << the_one << " *\n"
                            << kPolite << " " << the_one << " *\n";
    } else {
      std::ofstream(tokens) << kGreedy << " greedy *\n"
                            << kPolite << " polite *\n"
                            << more_tokens;
    }
    flags.push_back(absl::StrCat("--auth_tokens_file=", tokens));
    TaskServerProcess* server = StartServer(ServerOptions(flags));
    ASSERT_NE(server, nullptr);
    server_ = server;
    greedy_ = v1::TaskService::NewStub(server->NewChannel());
    polite_ = v1::TaskService::NewStub(server->NewChannel());
    v1::CreateProjectRequest request;
    request.mutable_project()->set_name("shared");
    ASSERT_TRUE(
        CallAs(*polite_, kPolite, &Stub::CreateProject, request, &project_)
            .ok());
  }

  v1::Task CreateTask(absl::string_view title, int description_bytes) {
    v1::CreateTaskRequest create;
    create.mutable_task()->set_project_id(project_.id());
    create.mutable_task()->set_title(std::string(title));
    create.mutable_task()->set_description(std::string(description_bytes, 'd'));
    v1::Task task;
    EXPECT_TRUE(
        CallAs(*polite_, kPolite, &Stub::CreateTask, create, &task).ok());
    return task;
  }

  // A call updating `task`'s description with `token`.
  static std::function<grpc::Status()> UpdateAs(Stub& stub, const char* token,
                                                const v1::Task& task) {
    return [&stub, token, id = task.id()] {
      v1::UpdateTaskRequest update;
      update.mutable_task()->set_id(id);
      update.mutable_task()->set_description(
          absl::StrCat("updated at ", absl::ToUnixNanos(absl::Now())));
      update.mutable_update_mask()->add_paths("description");
      v1::Task updated;
      return CallAs(stub, token, &Stub::UpdateTask, update, &updated);
    };
  }

  // The greedy caller keeps `greedy_calls` of `greedy_call` in flight,
  // refused past its share, while the polite one makes 40 of `polite_call`,
  // 20 ms apart: every one of those is served.
  void ExpectPoliteServedBeside(
      int greedy_calls, std::function<grpc::Status()> greedy_call,
      const std::function<grpc::Status()>& polite_call,
      const std::string& what) {
    ExpectPoliteServedBesideAll(greedy_calls, {std::move(greedy_call)},
                                polite_call, what);
  }

  // The same with a greedy caller for each of `greedy_each`.
  void ExpectPoliteServedBesideAll(
      int greedy_calls, std::vector<std::function<grpc::Status()>> greedy_each,
      const std::function<grpc::Status()>& polite_call,
      const std::string& what) {
    // All at once: one started first would take half of the threads alone
    // (below half, anybody's work runs), and the others' shares would be
    // smaller until its calls returned.
    absl::Notification start;
    std::vector<std::unique_ptr<Flood>> greedy;
    for (std::function<grpc::Status()>& call : greedy_each) {
      greedy.push_back(
          std::make_unique<Flood>(greedy_calls, std::move(call), &start));
    }
    start.Notify();
    absl::SleepFor(absl::Milliseconds(500));  // their places taken
    int polite_ok = 0;
    std::string polite_failure;
    for (int i = 0; i < 40; ++i) {
      const grpc::Status status = polite_call();
      if (status.ok()) {
        ++polite_ok;
      } else if (polite_failure.empty()) {
        polite_failure = status.error_message();
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    std::string summaries;
    for (const std::unique_ptr<Flood>& flood : greedy) {
      flood->Stop();
      absl::StrAppend(&summaries, summaries.empty() ? "" : "; ",
                      flood->Summary());
    }
    ReportFigure(absl::StrFormat("%s: greedy %s; polite %d of 40 OK", what,
                                 summaries, polite_ok));
    EXPECT_EQ(polite_ok, 40) << polite_failure;
    int over_share = 0;
    for (const std::unique_ptr<Flood>& flood : greedy) {
      over_share += flood->over_share.load();
      EXPECT_GT(flood->ok.load(), 0);
      EXPECT_EQ(flood->other.load(), 0) << flood->first_other();
      // A caller alone stops at half of the threads. Several may find them
      // all busy for a moment: one whose calls have all returned holds none,
      // and is let in as the last threads are meant to let such a caller in.
      if (greedy.size() == 1) EXPECT_EQ(flood->all_busy.load(), 0);
    }
    EXPECT_GT(over_share, 0);
  }

  std::unique_ptr<Stub> greedy_;
  std::unique_ptr<Stub> polite_;
  v1::Project project_;
};

// Lists wait for one of --max_concurrent_lists slots in at most half of
// --max_threads places (64 of 128): a caller keeping more in flight fills
// only its share of them.
TEST_P(CallerSharesTest, ACallerFloodingListsCannotHaveAnothersRefused) {
  constexpr int kGreedyCalls = 96;
  ASSERT_NO_FATAL_FAILURE(StartServerForTwo({"--max_concurrent_lists=1"}));
  // Pages that take the one list slot a few milliseconds each.
  for (int i = 0; i < 300; ++i) CreateTask(absl::StrCat("task ", i), 1000);
  v1::ListTasksRequest list;
  list.set_page_size(300);
  auto list_as = [&](Stub& stub, const char* token) {
    return [&stub, token, &list] {
      v1::ListTasksResponse page;
      return CallAs(stub, token, &Stub::ListTasks, list, &page);
    };
  };

  ExpectPoliteServedBeside(kGreedyCalls, list_as(*greedy_, kGreedy),
                           list_as(*polite_, kPolite),
                           absl::StrCat(kGreedyCalls,
                                        " concurrent lists of one caller, "
                                        "--max_concurrent_lists=1"));
}

// Writes hold a worker thread until their commit, and concurrent updates of
// one task wait on its row (PostgreSQL's lock, SQLite's one writer): a
// caller keeping more in flight than --max_threads, once half of them are
// in use, gets no more (its share: at least half of those still free).
TEST_P(CallerSharesTest, ACallerFloodingWritesCannotHaveAnothersRefused) {
  constexpr int kMaxThreads = 8;
  constexpr int kGreedyCalls = 32;
  ASSERT_NO_FATAL_FAILURE(
      StartServerForTwo({absl::StrCat("--max_threads=", kMaxThreads)}));
  const v1::Task greedy_task = CreateTask("greedy's", 100);
  const v1::Task polite_task = CreateTask("polite's", 100);
  ExpectPoliteServedBeside(
      kGreedyCalls, UpdateAs(*greedy_, kGreedy, greedy_task),
      UpdateAs(*polite_, kPolite, polite_task),
      absl::StrCat(kGreedyCalls,
                   " concurrent updates of one task by one caller, "
                   "--max_threads=",
                   kMaxThreads));
}

// Four callers flooding writes, each within a quarter of the threads, would
// take every one between them: each is also held to half of the threads
// still free, so that the last stay for a caller holding none. (Sixteen
// threads leave the fifth about five; eight left it two, and a greedy caller
// whose calls had all just returned, let in again as one holding none, once
// took the last.)
TEST_P(CallerSharesTest, FourCallersFloodingWritesCannotHaveAFifthsRefused) {
  constexpr int kMaxThreads = 16;
  constexpr int kCallsEach = 12;
  constexpr const char* kMoreGreedy[] = {"share-greedy-token-1111",
                                         "share-greedy-token-2222",
                                         "share-greedy-token-3333"};
  std::string more_tokens;
  for (int i = 0; i < 3; ++i) {
    absl::StrAppend(&more_tokens, kMoreGreedy[i], " greedy-", i + 1, " *\n");
  }
  ASSERT_NO_FATAL_FAILURE(StartServerForTwo(
      {absl::StrCat("--max_threads=", kMaxThreads)}, nullptr, more_tokens));
  // Each greedy caller updates a task of its own, on a channel of its own.
  std::vector<std::unique_ptr<Stub>> stubs;
  std::vector<std::function<grpc::Status()>> greedy;
  greedy.push_back(UpdateAs(*greedy_, kGreedy, CreateTask("greedy's", 100)));
  for (const char* token : kMoreGreedy) {
    stubs.push_back(v1::TaskService::NewStub(server_->NewChannel()));
    greedy.push_back(UpdateAs(*stubs.back(), token, CreateTask(token, 100)));
  }
  const v1::Task polite_task = CreateTask("polite's", 100);
  ExpectPoliteServedBesideAll(
      kCallsEach, std::move(greedy), UpdateAs(*polite_, kPolite, polite_task),
      absl::StrCat(
          "4 callers with ", kCallsEach,
          " concurrent updates of a task each, --max_threads=", kMaxThreads));
}

// With one principal (two tokens naming it) there is nobody to share with:
// its flood takes every worker thread, as without tokens.
TEST_P(CallerSharesTest, APrincipalAloneIsNotLimitedToAShare) {
  constexpr int kMaxThreads = 8;
  ASSERT_NO_FATAL_FAILURE(StartServerForTwo(
      {absl::StrCat("--max_threads=", kMaxThreads)}, /*the_one=*/"app"));
  const v1::Task task = CreateTask("the one's", 100);
  Flood flood(32, UpdateAs(*greedy_, kGreedy, task));
  absl::SleepFor(absl::Seconds(1));
  flood.Stop();
  ReportFigure(absl::StrFormat(
      "32 concurrent updates of one task by the only principal, "
      "--max_threads=%d: %s (first other: %s)",
      kMaxThreads, flood.Summary(), flood.first_other()));
  EXPECT_GT(flood.ok.load(), 0);
  EXPECT_EQ(flood.over_share.load(), 0);
}

INSTANTIATE_RELIABILITY_TEST_SUITE(CallerSharesTest);

}  // namespace
}  // namespace tasks::reliability
