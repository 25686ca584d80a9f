// WatchCursor: which changes become events, and when a stream may move past
// a whole batch of changes without looking at them.

#include "service/watch_cursor.h"

#include <cstdint>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"
#include "storage/filter/filter.h"

namespace tasks::service {
namespace {

using storage::AccessScope;
using storage::ChangePosition;
using storage::TaskChange;

TaskChange ChangeOf(int64_t seq, int64_t project) {
  TaskChange change;
  change.seq = change.change_id = seq;
  change.type = v1::TaskEvent::CREATED;
  change.task.set_id(seq);
  change.task.set_project_id(project);
  return change;
}

WatchCursor CursorAt(int64_t seq, const char* filter,
                     AccessScope scope = AccessScope::All(),
                     absl::flat_hash_set<int64_t> reflected = {}) {
  return WatchCursor(ChangePosition(seq, std::move(reflected)),
                     *storage::filter::ParseFilter(filter), std::move(scope));
}

TEST(WatchCursorTest, EventsAreTheChangesTheFilterAndScopeLetThrough) {
  WatchCursor cursor = CursorAt(0, "project_id = 3 OR project_id = 4",
                                AccessScope::Projects({4}));
  EXPECT_FALSE(cursor.Next(ChangeOf(1, 3)).has_value());  // Out of scope.
  std::optional<v1::TaskEvent> event = cursor.Next(ChangeOf(2, 4));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->task().id(), 2);
  EXPECT_EQ(event->resume_token(), ChangePosition(2, {}).Encode());
  EXPECT_FALSE(cursor.Next(ChangeOf(3, 5)).has_value());  // Filtered out.
  EXPECT_EQ(cursor.position().seq(), 3);
}

TEST(WatchCursorTest, SkipsBatchesOfProjectsItCannotSee) {
  WatchCursor by_filter = CursorAt(10, "project_id = 3 AND status = PENDING");
  EXPECT_TRUE(by_filter.SkipUnseen(20, {1, 2}));
  EXPECT_EQ(by_filter.position().seq(), 20);
  EXPECT_TRUE(by_filter.SkipUnseen(25, {}));  // Tasks without a project.
  EXPECT_EQ(by_filter.position().seq(), 25);

  WatchCursor by_scope = CursorAt(10, "", AccessScope::Projects({5, 6}));
  EXPECT_TRUE(by_scope.SkipUnseen(30, {3, 4, 7}));
  EXPECT_EQ(by_scope.position().seq(), 30);
}

TEST(WatchCursorTest, LooksAtBatchesItMaySeeSomethingOf) {
  WatchCursor cursor = CursorAt(10, "project_id = 3");
  EXPECT_FALSE(cursor.SkipUnseen(20, {1, 3}));
  EXPECT_EQ(cursor.position().seq(), 10);

  // The scope and the filter together: project 4 passes the filter but not
  // the scope, 3 both.
  WatchCursor both = CursorAt(10, "project_id = 3 OR project_id = 4",
                              AccessScope::Projects({3}));
  EXPECT_TRUE(both.SkipUnseen(20, {4}));
  EXPECT_FALSE(both.SkipUnseen(30, {3}));

  // Any project may match.
  for (const char* filter : {"", "status = PENDING", "project_id != 3"}) {
    WatchCursor any = CursorAt(10, filter);
    EXPECT_FALSE(any.SkipUnseen(20, {1})) << filter;
  }
}

// A change beyond the position that is reflected already (PostgreSQL) must
// be met by Next, or its id would stay in every later token.
TEST(WatchCursorTest, DoesNotSkipPastReflectedChanges) {
  WatchCursor cursor = CursorAt(10, "project_id = 3", AccessScope::All(), {12});
  EXPECT_FALSE(cursor.SkipUnseen(20, {1}));
  EXPECT_EQ(cursor.position().seq(), 10);
  TaskChange reflected = ChangeOf(11, 1);
  reflected.change_id = 12;
  EXPECT_FALSE(cursor.Next(reflected).has_value());
  EXPECT_TRUE(cursor.SkipUnseen(20, {1}));
  EXPECT_EQ(cursor.position().Encode(), ChangePosition(20, {}).Encode());
}

}  // namespace
}  // namespace tasks::service
