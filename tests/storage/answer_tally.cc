#include "tests/storage/answer_tally.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "storage/run_blocking.h"

namespace tasks::storage {

TaskStore::TaskCallback AnswerTally::Callback(
    std::function<bool(const v1::Task&)> expected, std::string label) {
  return [this, expected = std::move(expected),
          label = std::move(label)](absl::StatusOr<v1::Task> answer) {
    if (IsRunBlockingInstead(answer.status())) {
      {
        absl::MutexLock lock(&mu_);
        run_blocking_.push_back(label);
      }
      return Count("RUN_BLOCKING");
    }
    if (!answer.ok()) {
      return Count(absl::StatusCodeToString(answer.status().code()));
    }
    if (expected != nullptr && !expected(*answer)) return Count("WRONG");
    absl::MutexLock lock(&mu_);
    tasks_.push_back(*std::move(answer));
    ++counts_["OK"];
    ++answered_;
  };
}

void AnswerTally::Declined() { Count("DECLINED"); }

void AnswerTally::Count(const std::string& what) {
  absl::MutexLock lock(&mu_);
  ++counts_[what];
  ++answered_;
}

bool AnswerTally::Await(int calls, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  awaited_ = calls;
  return mu_.AwaitWithTimeout(absl::Condition(this, &AnswerTally::AllAnswered),
                              timeout);
}

bool AnswerTally::AllAnswered() const { return answered_ >= awaited_; }

int AnswerTally::answered() const {
  absl::MutexLock lock(&mu_);
  return answered_;
}

int AnswerTally::count(absl::string_view what) const {
  absl::MutexLock lock(&mu_);
  auto found = counts_.find(what);
  return found == counts_.end() ? 0 : found->second;
}

std::vector<v1::Task> AnswerTally::tasks() const {
  absl::MutexLock lock(&mu_);
  return tasks_;
}

std::vector<std::string> AnswerTally::run_blocking() const {
  absl::MutexLock lock(&mu_);
  return run_blocking_;
}

std::string AnswerTally::Summary() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> parts;
  for (const auto& [what, n] : counts_)
    parts.push_back(absl::StrCat(what, "=", n));
  std::sort(parts.begin(), parts.end());
  return absl::StrJoin(parts, " ");
}

}  // namespace tasks::storage
