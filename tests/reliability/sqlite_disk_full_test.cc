// A SQLite database that runs out of space under a running server, two ways:
//
// - FullFilesystem: the database lives on a 2 MiB tmpfs the test mounts in a
//   private mount namespace (SmallFilesystem), holding a 768 KiB ballast
//   file. Writes fail with ENOSPC, which SQLite reports as SQLITE_FULL: the
//   client gets RESOURCE_EXHAUSTED. Space is freed by deleting the ballast.
// - FileSizeLimit: the portable fallback, a soft RLIMIT_FSIZE of 2 MiB on the
//   server with SIGXFSZ ignored. Writes fail with EFBIG, which SQLite reports
//   as SQLITE_IOERR_WRITE without the errno, so the server cannot tell it
//   from a failing disk: the client gets UNAVAILABLE. Space is "freed" by
//   raising the limit of the running process (prlimit).
//
// Either way: once full, every write fails with that status and changes
// nothing (concurrent grouped writes too); reads and health keep working; the
// same process writes again once space is freed; nothing acknowledged is
// lost; PRAGMA integrity_check is ok after a clean shutdown.

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/reliability/create_load.h"
#include "tests/reliability/database_checks.h"
#include "tests/reliability/reliability_test_base.h"
#include "tests/reliability/small_filesystem.h"
#include "tests/testing/grpc_status_matchers.h"

namespace tasks::reliability {
namespace {

using ::grpc::health::v1::HealthCheckResponse;
using ::tasks::testing::GrpcErrorIs;

constexpr int64_t kStorageBytes = 2 << 20;
constexpr int64_t kBallastBytes = 768 << 10;
// Each create adds a few KiB to the WAL (the row's overflow pages and the
// index pages): the space runs out after a few dozen.
constexpr int kDescriptionLength = 8000;
constexpr int kWritesWhileFull = 5;
constexpr int kWritesAfterFreeing = 10;

// How the storage fills up, and how it is freed.
struct FullStorage {
  std::string name;
  TaskServerOptions options;
  // A path raw SQL can open, holding the database as it is now (while no
  // one writes).
  std::function<absl::StatusOr<std::string>()> raw_db;
  // What a refused write returns.
  grpc::StatusCode code;
  const char* reason;
  std::function<absl::Status(pid_t server)> free_space;
};

class SqliteDiskFullTest : public ReliabilityTest {
 protected:
  void RunScenario(const FullStorage& storage);
};

void SqliteDiskFullTest::RunScenario(const FullStorage& storage) {
  ASSERT_NO_FATAL_FAILURE(StartWithProject(storage.options, "full disk"));

  // Concurrent writers fill the storage (their writes share transactions):
  // once it is full, every one of them is refused the same way.
  CreateLoadOptions fill;
  fill.clients = 8;
  fill.project_id = project_id_;
  fill.title_prefix = "fill";
  fill.description_length = kDescriptionLength;
  CreateLoad load([this] { return server_->NewChannel(); }, fill);
  load.Start();
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (Summarize(load.Outcomes(), fill.call_deadline).count(storage.code) <
             20 &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  load.Stop();
  const OutcomeSummary filling = Summarize(load.Outcomes(), fill.call_deadline);
  ASSERT_GE(filling.count(storage.code), 20)
      << "the storage did not fill up: " << CodeCounts(filling) << "; "
      << UnexpectedCodes(filling, {grpc::StatusCode::OK});
  EXPECT_EQ(UnexpectedCodes(filling, {grpc::StatusCode::OK, storage.code}), "");
  std::map<int64_t, std::string> acknowledged = load.Acknowledged();
  const int64_t acknowledged_before_full = acknowledged.size();

  // Full stays full: each write as large as those that filled it is refused
  // with the same status. (A smaller one may still fit in what is left.)
  grpc::Status refusal;
  int refused = 0;
  for (int i = 0; i < kWritesWhileFull; ++i) {
    refusal = CreateTask(*stub_, project_id_, absl::StrCat("refused ", i),
                         absl::Seconds(10), kDescriptionLength);
    EXPECT_THAT(refusal, GrpcErrorIs(storage.code, storage.reason));
    refused += refusal.error_code() == storage.code;
  }

  // Reads keep working, and health with them.
  absl::StatusOr<std::string> raw_db = storage.raw_db();
  ASSERT_TRUE(raw_db.ok()) << raw_db.status();
  absl::StatusOr<LossReport> while_full =
      CheckAcknowledgedTasks(acknowledged, *stub_, backend(), *raw_db);
  ASSERT_TRUE(while_full.ok()) << while_full.status();
  EXPECT_EQ(while_full->lost(), 0);
  absl::StatusOr<ServingStatus> health_while_full = server_->Health();
  ASSERT_TRUE(health_while_full.ok()) << health_while_full.status();
  EXPECT_EQ(*health_while_full, HealthCheckResponse::SERVING);

  // Space is freed: the same process writes again.
  absl::Status freed = storage.free_space(server_->pid());
  ASSERT_TRUE(freed.ok()) << freed;
  int written_after = 0;
  for (int i = 0; i < kWritesAfterFreeing; ++i) {
    v1::Task task;
    const std::string title = absl::StrCat("after ", i);
    grpc::Status status =
        CreateTask(*stub_, project_id_, title, absl::Seconds(10),
                   /*description_length=*/1, &task);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (status.ok()) {
      acknowledged[task.id()] = title;
      ++written_after;
    }
  }

  raw_db = storage.raw_db();
  ASSERT_TRUE(raw_db.ok()) << raw_db.status();
  absl::StatusOr<LossReport> loss =
      CheckAcknowledgedTasks(acknowledged, *stub_, backend(), *raw_db);
  ASSERT_TRUE(loss.ok()) << loss.status();
  EXPECT_EQ(loss->lost(), 0);

  // An idle connection would hold the graceful shutdown until the drain
  // timeout (see TaskServerProcess::Signal).
  stub_.reset();
  ASSERT_TRUE(server_->Signal(SIGTERM).ok());
  absl::StatusOr<int> exit_code = server_->WaitForExit(absl::Seconds(15));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
  raw_db = storage.raw_db();
  ASSERT_TRUE(raw_db.ok()) << raw_db.status();
  absl::StatusOr<int64_t> refused_applied =
      CountRows(backend(), *raw_db,
                "SELECT count(*) FROM tasks WHERE title LIKE 'refused %'");
  ASSERT_TRUE(refused_applied.ok()) << refused_applied.status();
  EXPECT_EQ(*refused_applied, 0);
  absl::StatusOr<std::string> integrity = IntegrityCheck(backend(), *raw_db);
  ASSERT_TRUE(integrity.ok()) << integrity.status();
  EXPECT_EQ(*integrity, "ok");

  ReportFigure(absl::StrCat(
      storage.name, ": acknowledged_before_full=", acknowledged_before_full,
      " filling_calls: ", CodeCounts(filling),
      " refusal=", CodeName(refusal.error_code()), " (\"",
      refusal.error_message(), "\") writes_refused_while_full=", refused, "/",
      kWritesWhileFull, " refused_applied=", *refused_applied,
      " reads_while_full_lost=", while_full->lost(), " health_while_full=",
      HealthCheckResponse::ServingStatus_Name(*health_while_full),
      " writes_after_freeing=", written_after, "/", kWritesAfterFreeing,
      " acknowledged=", loss->acknowledged, " lost=", loss->lost(),
      " exit_code=", *exit_code, " integrity=", *integrity));
}

TEST_P(SqliteDiskFullTest, FullFilesystemRefusesWritesResourceExhausted) {
  absl::StatusOr<std::unique_ptr<SmallFilesystem>> fs =
      SmallFilesystem::Mount(kStorageBytes);
  ASSERT_TRUE(fs.ok()) << fs.status();
  const std::string ballast = (*fs)->OutsidePath("ballast");
  {
    std::ofstream out(ballast, std::ios::binary);
    out << std::string(kBallastBytes, '\0');
    ASSERT_TRUE(out.good()) << "cannot write the ballast file " << ballast;
  }
  FullStorage storage;
  storage.name = "tmpfs_2MiB";
  storage.options = ServerOptions();
  storage.options.db = (*fs)->InsidePath("tasks.db");
  storage.options.launcher = (*fs)->Enter();
  const std::string copy = absl::StrCat(database(), ".copy");
  storage.raw_db = [fs = fs->get(), copy]() -> absl::StatusOr<std::string> {
    absl::Status copied = fs->CopyDatabaseOut("tasks.db", copy);
    if (!copied.ok()) return copied;
    return copy;
  };
  storage.code = grpc::StatusCode::RESOURCE_EXHAUSTED;
  storage.reason = "RESOURCE_EXHAUSTED";
  storage.free_space = [ballast](pid_t) -> absl::Status {
    if (unlink(ballast.c_str()) != 0) {
      return absl::InternalError(
          absl::StrCat("unlink ", ballast, ": ", std::strerror(errno)));
    }
    return absl::OkStatus();
  };
  RunScenario(storage);
}

TEST_P(SqliteDiskFullTest, FileSizeLimitRefusesWritesUnavailable) {
  FullStorage storage;
  storage.name = "RLIMIT_FSIZE_2MiB";
  storage.options = ServerOptions();
  storage.options.file_size_limit_bytes = kStorageBytes;
  storage.raw_db = [this]() -> absl::StatusOr<std::string> {
    return database();
  };
  storage.code = grpc::StatusCode::UNAVAILABLE;
  storage.reason = "DATABASE_UNAVAILABLE";
  storage.free_space = [](pid_t server) -> absl::Status {
    rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
    if (prlimit(server, RLIMIT_FSIZE, &unlimited, nullptr) != 0) {
      return absl::InternalError(
          absl::StrCat("prlimit: ", std::strerror(errno)));
    }
    return absl::OkStatus();
  };
  RunScenario(storage);
}

INSTANTIATE_TEST_SUITE_P(Backends, SqliteDiskFullTest,
                         ::testing::Values(StoreBackend::kSqlite),
                         BackendTestName);

}  // namespace
}  // namespace tasks::reliability
