#ifndef TASKS_TESTS_STORAGE_ANSWER_TALLY_H_
#define TASKS_TESTS_STORAGE_ANSWER_TALLY_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::storage {

// AnswerTally
//
// Tallies the answers of many asynchronous store calls (TaskStore's
// TryXxxAsync), from whichever thread they come: each call counts once, by
// its callback or, when the store declined it, by Declined(). An answer
// counts as "OK" (a task its call expected), "WRONG" (a task it did not),
// "DECLINED", "RUN_BLOCKING" (storage/run_blocking.h: the caller runs the
// call the blocking way), or its status code's name ("UNAVAILABLE", ...).
//
// Example:
//   AnswerTally tally;
//   if (!store.TryGetTaskAsync(id, scope, deadline, tally.Callback()))
//     tally.Declined();
//   ASSERT_TRUE(tally.Await(1));
//   EXPECT_EQ(tally.count("OK"), 1);
class AnswerTally {
 public:
  // A callback that counts its answer; `expected`, when set, says whether
  // a task answered is the one the call should have had. `label` names the
  // call in run_blocking().
  TaskStore::TaskCallback Callback(
      std::function<bool(const v1::Task&)> expected = nullptr,
      std::string label = "");
  void Declined();

  // Waits until `calls` answers are counted; false when `timeout` passes
  // first.
  bool Await(int calls, absl::Duration timeout = absl::Seconds(30));

  int answered() const;
  int count(absl::string_view what) const;
  // The tasks counted "OK", in the order they came.
  std::vector<v1::Task> tasks() const;
  // The labels of the calls counted "RUN_BLOCKING".
  std::vector<std::string> run_blocking() const;
  // "OK=3 UNAVAILABLE=1", for messages.
  std::string Summary() const;

 private:
  void Count(const std::string& what);
  bool AllAnswered() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  int answered_ ABSL_GUARDED_BY(mu_) = 0;
  int awaited_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, int> counts_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::Task> tasks_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> run_blocking_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tasks::storage

#endif  // TASKS_TESTS_STORAGE_ANSWER_TALLY_H_
