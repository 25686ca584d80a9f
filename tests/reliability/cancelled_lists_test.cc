// Lists whose clients give up: three times --max_concurrent_lists ListTasks
// of the costliest scan per row (tests/testing/costliest_scan.h), on a table
// where one such list alone takes over half a second, cancelled by their
// clients 200 ms after they were sent. The server stops them: 200 ms later
// PostgreSQL runs none of their statements, or the server process stays
// idle for a second (SQLite, where the scan runs in it); then an honest list
// gets a slot within half of one costly list's time (it would wait for the
// cancelled ones still running or waiting).

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/database_checks.h"
#include "tests/reliability/reliability_test_base.h"
#include "tests/testing/costliest_scan.h"

namespace tasks::reliability {
namespace {

using ::tasks::testing::CostliestFilter;
using ::tasks::testing::CostliestTasks;

constexpr int kLists = 12;  // three times the default --max_concurrent_lists
constexpr int kBatch = 100;
constexpr int kMaxTasks = 12800;
constexpr absl::Duration kSlowList = absl::Milliseconds(500);
constexpr absl::Duration kCancelAfter = absl::Milliseconds(200);
constexpr absl::Duration kSettle = absl::Milliseconds(200);
constexpr absl::Duration kIdleWindow = absl::Seconds(1);

// CPU time (user and system) the process `pid` has used so far.
absl::StatusOr<absl::Duration> ProcessCpuTime(pid_t pid) {
  std::ifstream file(absl::StrCat("/proc/", pid, "/stat"));
  std::stringstream text;
  text << file.rdbuf();
  const std::string stat = text.str();
  // Fields after the command, which is in parentheses and may hold spaces.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) {
    return absl::NotFoundError(absl::StrCat("no /proc/", pid, "/stat"));
  }
  std::vector<std::string> fields = absl::StrSplit(stat.substr(close + 2), ' ');
  // utime and stime: fields 14 and 15 of stat(5), 12 and 13 from here.
  if (fields.size() < 13) return absl::InternalError("short /proc stat");
  const int64_t ticks = std::stoll(fields[11]) + std::stoll(fields[12]);
  return absl::Seconds(static_cast<double>(ticks) / sysconf(_SC_CLK_TCK));
}

class CancelledListsTest : public ReliabilityTest {
 protected:
  v1::ListTasksRequest CostliestList() const {
    v1::ListTasksRequest request;
    request.set_filter(CostliestFilter());
    request.set_page_size(1000);
    return request;
  }

  // Statements of the server's sessions running now (PostgreSQL).
  absl::StatusOr<int64_t> ActiveStatements() {
    return CountRows(backend(), database(),
                     "SELECT count(*) FROM pg_stat_activity "
                     "WHERE datname = current_database() "
                     "AND backend_type = 'client backend' "
                     "AND pid <> pg_backend_pid() AND state = 'active'");
  }
};

TEST_P(CancelledListsTest, ListsWhoseClientsGaveUpStopAndFreeTheirSlots) {
  ASSERT_NO_FATAL_FAILURE(StartWithProject(ServerOptions(), "scan"));

  // Doubles the tasks until one costly list alone takes kSlowList.
  int tasks = 0;
  absl::Duration one_list;
  for (int target = 200; one_list < kSlowList; target *= 2) {
    ASSERT_LE(target, kMaxTasks)
        << "a list of " << tasks << " tasks took only " << Millis(one_list);
    for (; tasks < target; tasks += kBatch) {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
      v1::BatchCreateTasksResponse created;
      grpc::Status status = stub_->BatchCreateTasks(
          &context, CostliestTasks(project_id_, tasks, kBatch), &created);
      ASSERT_TRUE(status.ok()) << status.error_message();
    }
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    v1::ListTasksResponse page;
    const absl::Time start = absl::Now();
    grpc::Status status = stub_->ListTasks(&context, CostliestList(), &page);
    one_list = absl::Now() - start;
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(page.tasks_size(), 0);
  }

  // Each on a channel of its own, as separate clients.
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<grpc::Status> statuses(kLists);
  std::vector<std::thread> lists;
  for (int i = 0; i < kLists; ++i) {
    auto& context =
        contexts.emplace_back(std::make_unique<grpc::ClientContext>());
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    lists.emplace_back([this, i, context = context.get(), &statuses] {
      auto stub = v1::TaskService::NewStub(server_->NewChannel());
      v1::ListTasksResponse page;
      statuses[i] = stub->ListTasks(context, CostliestList(), &page);
    });
  }
  absl::SleepFor(kCancelAfter);
  for (auto& context : contexts) context->TryCancel();
  for (std::thread& list : lists) list.join();
  for (const grpc::Status& status : statuses) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED)
        << status.error_message();
  }

  // What still runs for them a moment later.
  absl::SleepFor(kSettle);
  std::string still;
  if (backend() == StoreBackend::kPostgres) {
    absl::StatusOr<int64_t> active = ActiveStatements();
    ASSERT_TRUE(active.ok()) << active.status();
    EXPECT_EQ(*active, 0) << "statements of cancelled lists still run";
    still = absl::StrCat(*active, " statements running in PostgreSQL");
  } else {
    absl::StatusOr<absl::Duration> before = ProcessCpuTime(server_->pid());
    absl::SleepFor(kIdleWindow);
    absl::StatusOr<absl::Duration> later = ProcessCpuTime(server_->pid());
    ASSERT_TRUE(before.ok() && later.ok());
    const absl::Duration used = *later - *before;
    EXPECT_LT(used, kIdleWindow / 4) << "the cancelled lists still scan";
    still = absl::StrCat("server CPU ", Millis(used), " in the next ",
                         Millis(kIdleWindow));
  }

  grpc::ClientContext honest_context;
  honest_context.set_deadline(
      absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  v1::ListTasksRequest honest;
  honest.set_page_size(1);
  v1::ListTasksResponse honest_page;
  const absl::Time start = absl::Now();
  grpc::Status honest_status =
      stub_->ListTasks(&honest_context, honest, &honest_page);
  const absl::Duration honest_wait = absl::Now() - start;
  EXPECT_TRUE(honest_status.ok()) << honest_status.error_message();
  EXPECT_EQ(honest_page.tasks_size(), 1);
  ReportFigure(absl::StrCat(
      tasks, " tasks, one costly list alone ", Millis(one_list), "; ", kLists,
      " such lists cancelled after ", Millis(kCancelAfter), "; ",
      Millis(kSettle), " later: ", still, "; then an honest list took ",
      Millis(honest_wait)));
  EXPECT_LT(honest_wait, one_list / 2)
      << "the honest list waited for the cancelled ones";
}

INSTANTIATE_RELIABILITY_TEST_SUITE(CancelledListsTest);

}  // namespace
}  // namespace tasks::reliability
