// A list whose call's client is gone stops, on both backends: on SQLite at
// the progress handler's next check, on PostgreSQL by a cancel request, as
// at a deadline. The scan is the costliest per row a filter allows
// (tests/testing/costliest_scan.h).

#include <iostream>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/call_cancellation.h"
#include "common/call_deadline.h"
#include "gtest/gtest.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/storage/task_store_fixture.h"
#include "tests/testing/costliest_scan.h"
#include "tests/testing/status_matchers.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::CostliestFilter;
using ::tasks::testing::CostliestTasks;
using ::tasks::testing::StatusIs;
using Code = absl::StatusCode;

constexpr int kBatch = 100;
constexpr int kMaxTasks = 12800;
constexpr absl::Duration kSlowList = absl::Milliseconds(500);

TEST_P(TaskStoreTest, AListWhoseCallIsCancelledStopsScanning) {
  v1::ListTasksRequest request;
  request.set_filter(CostliestFilter());
  request.set_page_size(1000);

  // Doubles the tasks until one list alone takes kSlowList.
  int tasks = 0;
  absl::Duration one_list;
  for (int target = 200; one_list < kSlowList; target *= 2) {
    ASSERT_LE(target, kMaxTasks)
        << "a list of " << tasks << " tasks took only " << one_list;
    for (; tasks < target; tasks += kBatch) {
      ASSERT_TRUE(
          store().BatchCreateTasks(CostliestTasks(0, tasks, kBatch)).ok());
    }
    ScopedCallDeadline deadline(absl::Now() + absl::Seconds(60));
    const absl::Time start = absl::Now();
    absl::StatusOr<v1::ListTasksResponse> page = store().ListTasks(request);
    one_list = absl::Now() - start;
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_EQ(page->tasks_size(), 0);
  }

  CallCancellation cancellation;
  absl::Time cancelled_at;
  std::thread client([&] {
    absl::SleepFor(one_list / 10);
    cancelled_at = absl::Now();
    cancellation.Cancel();
  });
  absl::Status listed;
  {
    ScopedCallDeadline deadline(absl::Now() + absl::Seconds(60));
    ScopedCallCancellation scope(&cancellation);
    listed = store().ListTasks(request).status();
  }
  const absl::Time returned = absl::Now();
  client.join();
  std::cout << "FIGURE a list of " << tasks << " tasks taking " << one_list
            << " alone returned " << (returned - cancelled_at)
            << " after its call was cancelled\n";
  EXPECT_THAT(listed, StatusIs(Code::kCancelled));
  EXPECT_LT(returned - cancelled_at, one_list / 2);

  // The store carries on, on each of its connections.
  for (int i = 0; i < 8; ++i) {
    ScopedCallDeadline deadline(absl::Now() + absl::Seconds(10));
    v1::ListTasksRequest first;
    first.set_page_size(1);
    absl::StatusOr<v1::ListTasksResponse> page = store().ListTasks(first);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_EQ(page->tasks_size(), 1);
  }
}

}  // namespace
}  // namespace tasks::storage
