// ListTasks cannot take the server's memory: the heaviest pages a client can
// ask for (the worst metadata the caps allow, page_size 1000, many clients
// at once), and rows stored before the caps existed (1 MB of JSON nulls
// each), keep the server's peak RSS (VmHWM) within the memory target, and
// every task still comes back exactly once through the page tokens.

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/process_memory.h"
#include "tests/reliability/reliability_test_base.h"
#include "tests/reliability/worst_task.h"
#include "tests/testing/raw_sql.h"

namespace tasks::reliability {
namespace {

// The memory target of the issue: a server's peak RSS, whatever clients ask.
constexpr int64_t kPeakRssLimitKib = 256 * 1024;

constexpr int kWorstTasks = 1000;  // the largest page
// More than --max_concurrent_lists: the limit, not the clients, bounds memory.
constexpr int kConcurrentClients = 16;
constexpr int kListingsPerClient = 2;

// Rows of the reproduction, stored before the caps existed.
constexpr int kOldRows = 40;
constexpr int kNullsPerOldRow = 250000;  // 1.25 MB of JSON text

using ListMemoryTest = ReliabilityTest;

std::string Mib(int64_t kib) { return absl::StrCat(kib / 1024, " MiB"); }

// A channel taking answers of any size: the server's limits are under test,
// not the client's.
std::unique_ptr<v1::TaskService::Stub> UnlimitedStub(
    const TaskServerProcess& server) {
  grpc::ChannelArguments args =
      ::tasks::testing::WaitForReadyChannelArguments();
  args.SetMaxReceiveMessageSize(-1);
  return v1::TaskService::NewStub(grpc::CreateCustomChannel(
      server.address(), grpc::InsecureChannelCredentials(), args));
}

// What one listing of every task (page after page) saw.
struct Listing {
  grpc::Status status;
  std::vector<int64_t> ids;
  int pages = 0;
  int64_t largest_page_bytes = 0;
};

Listing ListAll(v1::TaskService::Stub& stub, int page_size) {
  Listing listing;
  std::string token;
  do {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    v1::ListTasksRequest request;
    request.set_page_size(page_size);
    request.set_page_token(token);
    v1::ListTasksResponse response;
    listing.status = stub.ListTasks(&context, request, &response);
    if (!listing.status.ok()) return listing;
    ++listing.pages;
    listing.largest_page_bytes =
        std::max<int64_t>(listing.largest_page_bytes, response.ByteSizeLong());
    for (const v1::Task& task : response.tasks()) {
      listing.ids.push_back(task.id());
    }
    token = response.next_page_token();
  } while (!token.empty());
  return listing;
}

// Checks that `listing` holds each of `expected` ids exactly once.
void ExpectEveryTaskOnce(const Listing& listing, int expected) {
  ASSERT_TRUE(listing.status.ok())
      << listing.status.error_code() << " " << listing.status.error_message();
  std::set<int64_t> distinct(listing.ids.begin(), listing.ids.end());
  EXPECT_EQ(listing.ids.size(), static_cast<size_t>(expected));
  EXPECT_EQ(distinct.size(), static_cast<size_t>(expected));
}

TEST_P(ListMemoryTest, WorstAllowedRowsAtTheLargestPageSizeStayWithinTarget) {
  TaskServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  auto stub = UnlimitedStub(*server);
  const int64_t project_id = CreateProject(*stub, "heavy");
  ASSERT_NE(project_id, 0);
  const grpc::Status filled =
      CreateWorstMetadataTasks(*stub, project_id, kWorstTasks);
  ASSERT_TRUE(filled.ok()) << filled.error_message();
  const int64_t before_kib = ProcStatusKib(server->pid(), "VmHWM");
  ASSERT_GT(before_kib, 0);

  std::vector<Listing> listings(kConcurrentClients * kListingsPerClient);
  std::vector<std::thread> clients;
  const absl::Time start = absl::Now();
  for (int client = 0; client < kConcurrentClients; ++client) {
    clients.emplace_back([&, client] {
      auto client_stub = UnlimitedStub(*server);
      for (int round = 0; round < kListingsPerClient; ++round) {
        listings[client * kListingsPerClient + round] =
            ListAll(*client_stub, 1000);
      }
    });
  }
  for (std::thread& client : clients) client.join();
  const absl::Duration took = absl::Now() - start;
  const int64_t peak_kib = ProcStatusKib(server->pid(), "VmHWM");

  int64_t largest_page_bytes = 0;
  for (const Listing& listing : listings) {
    ExpectEveryTaskOnce(listing, kWorstTasks);
    largest_page_bytes =
        std::max(largest_page_bytes, listing.largest_page_bytes);
  }
  ReportFigure(absl::StrCat(
      kWorstTasks, " tasks of 1,000-value metadata, ", kConcurrentClients,
      " clients x ", kListingsPerClient, " listings at page_size 1000: ",
      listings[0].pages, " pages each (largest ", largest_page_bytes / 1024,
      " KiB), peak RSS ", Mib(before_kib), " before -> ", Mib(peak_kib),
      " (limit ", Mib(kPeakRssLimitKib), "), ", Millis(took)));
  EXPECT_LE(peak_kib, kPeakRssLimitKib);
}

TEST_P(ListMemoryTest, RowsLargerThanTheCapsStoredEarlierStayWithinTarget) {
  TaskServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  // Written behind the server's back, as an older server without the caps
  // would have stored them.
  std::vector<std::string> nulls(kNullsPerOldRow, "null");
  const std::string metadata =
      absl::StrCat("{\"a\":[", absl::StrJoin(nulls, ","), "]}");
  for (int i = 0; i < kOldRows; ++i) {
    absl::StatusOr<std::string> inserted = ::tasks::testing::QueryRawSql(
        backend(), database(),
        absl::StrCat("INSERT INTO tasks (title, metadata) VALUES ('old-", i,
                     "', '", metadata, "')"));
    ASSERT_TRUE(inserted.ok()) << inserted.status();
  }
  auto stub = UnlimitedStub(*server);
  const int64_t before_kib = ProcStatusKib(server->pid(), "VmHWM");
  ASSERT_GT(before_kib, 0);

  const absl::Time start = absl::Now();
  Listing listing = ListAll(*stub, kOldRows);
  const absl::Duration took = absl::Now() - start;
  const int64_t peak_kib = ProcStatusKib(server->pid(), "VmHWM");
  const int64_t after_kib = ProcStatusKib(server->pid(), "VmRSS");

  ExpectEveryTaskOnce(listing, kOldRows);
  ReportFigure(
      absl::StrCat(kOldRows, " stored rows of ", metadata.size() / 1000,
                   " KB metadata, page_size ", kOldRows, ": ", listing.pages,
                   " pages (largest ", listing.largest_page_bytes / 1024,
                   " KiB), peak RSS ", Mib(before_kib), " before -> ",
                   Mib(peak_kib), " (limit ", Mib(kPeakRssLimitKib), "), ",
                   Mib(after_kib), " held after, ", Millis(took)));
  EXPECT_LE(peak_kib, kPeakRssLimitKib);
}

INSTANTIATE_RELIABILITY_TEST_SUITE(ListMemoryTest);

}  // namespace
}  // namespace tasks::reliability
