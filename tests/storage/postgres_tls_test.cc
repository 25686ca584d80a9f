// The store on PostgreSQL over TLS (sslmode=require): its pipelined
// statements read batches of large rows, which libpq decrypts 32 KiB at a
// time, and writes commit, as over a plain socket.

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "storage/soci_task_store.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/storage/answer_tally.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/raw_sql.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::PostgresServer;
using ::tasks::testing::PostgresServerOptions;
using ::tasks::testing::QueryRawSql;
using ::tasks::testing::StoreBackend;
using ::tasks::testing::TaskBuilder;

TEST(PostgresTlsTest, PipelinedStatementsWorkOverTls) {
  PostgresServerOptions options;
  options.tls_cert_path = "tests/testdata/tls/server.pem";
  options.tls_key_path = "tests/testdata/tls/server.key";
  absl::StatusOr<std::unique_ptr<PostgresServer>> server =
      PostgresServer::StartOwned(options);
  ASSERT_TRUE(server.ok()) << "no PostgreSQL server: " << server.status();
  absl::StatusOr<std::string> database = (*server)->CreateFreshDatabase();
  ASSERT_TRUE(database.ok()) << database.status();
  const std::string over_tls = absl::StrCat(*database, "?sslmode=require");
  absl::StatusOr<TaskStorePtr> opened = OpenSociTaskStore(over_tls);
  ASSERT_TRUE(opened.ok()) << opened.status();
  TaskStore& store = **opened;

  // 4 KiB a row: a batch of reads comes back as many times 32 KiB.
  std::vector<v1::Task> tasks;
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<v1::Task> task =
        store.CreateTask(TaskBuilder(absl::StrCat("large ", i))
                             .WithDescription(std::string(4096, 'a' + i))
                             .Build(),
                         "");
    ASSERT_TRUE(task.ok()) << task.status();
    tasks.push_back(*task);
  }

  constexpr int kCalls = 2000;  // every 10th a create, the rest reads
  AnswerTally tally;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  for (int i = 0; i < kCalls; ++i) {
    const std::string title = absl::StrCat("new ", i);
    const v1::Task& read = tasks[i % tasks.size()];
    const bool taken =
        i % 10 == 0 ? store.TryCreateTaskAsync(
                          TaskBuilder(title).Build(), "", Idempotency(),
                          absl::InfiniteFuture(),
                          tally.Callback([title](const v1::Task& created) {
                            return created.title() == title;
                          }))
                    : store.TryGetTaskAsync(
                          read.id(), AccessScope::All(), absl::InfiniteFuture(),
                          tally.Callback([&read](const v1::Task& got) {
                            return got.description() == read.description();
                          }));
    if (!taken) {
      // The pipelined connections open on first use.
      ASSERT_LT(absl::Now(), give_up) << "the store never took an async call";
      tally.Declined();
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  EXPECT_TRUE(tally.Await(kCalls)) << tally.Summary();
  EXPECT_EQ(tally.count("OK") + tally.count("DECLINED"), kCalls)
      << tally.Summary();
  EXPECT_GT(tally.count("OK"), kCalls / 2);
  // The store's connections, the pipelined ones among them, use TLS.
  absl::StatusOr<std::string> plain = QueryRawSql(
      StoreBackend::kPostgres, over_tls,
      "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s "
      "USING (pid) WHERE a.datname = current_database() AND NOT s.ssl");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(*plain, "0");
  std::cout << "FIGURE " << kCalls << " calls over TLS: " << tally.Summary()
            << "\n";
}

}  // namespace
}  // namespace tasks::storage
