#include "tests/reliability/task_watcher.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace tasks::reliability {
namespace {

// How many differences a failure message lists.
constexpr int kMaxDifferences = 5;

// What an event is compared by.
using EventKey = std::tuple<int, int64_t, std::string>;

EventKey KeyOf(const v1::TaskEvent& event, bool with_etag) {
  return {event.type(), event.task().id(),
          with_etag ? event.task().etag() : std::string()};
}

EventKey KeyOf(const ExpectedEvent& expected) {
  return {expected.type, expected.task_id, expected.etag};
}

std::string Describe(const EventKey& key) {
  return absl::StrCat(v1::TaskEvent::Type_Name(
                          static_cast<v1::TaskEvent::Type>(std::get<0>(key))),
                      " ", std::get<1>(key),
                      std::get<2>(key).empty() ? "" : " etag ",
                      std::get<2>(key));
}

}  // namespace

TaskWatcher::TaskWatcher(std::shared_ptr<grpc::Channel> channel,
                         v1::WatchTasksRequest request, bool paused)
    : stub_(v1::TaskService::NewStub(std::move(channel))),
      initial_token_(request.resume_token()),
      paused_(paused) {
  thread_ = std::thread([this, request = std::move(request)] { Run(request); });
}

TaskWatcher::~TaskWatcher() {
  context_.TryCancel();
  Resume();
  thread_.join();
}

void TaskWatcher::Resume() {
  absl::MutexLock lock(&mu_);
  paused_ = false;
}

void TaskWatcher::Run(v1::WatchTasksRequest request) {
  std::unique_ptr<grpc::ClientReader<v1::TaskEvent>> reader =
      stub_->WatchTasks(&context_, request);
  {
    // Opened, and read nothing until resumed.
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](bool* paused) { return !*paused; }, &paused_));
  }
  v1::TaskEvent event;
  while (reader->Read(&event)) {
    const absl::Time arrived = absl::Now();
    absl::MutexLock lock(&mu_);
    events_.push_back({std::move(event), arrived});
    event = v1::TaskEvent();
  }
  grpc::Status status = reader->Finish();
  absl::MutexLock lock(&mu_);
  end_ = std::move(status);
  ended_at_ = absl::Now();
}

bool TaskWatcher::AwaitEvents(size_t count, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto done = [this, count]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return events_.size() >= count || end_.has_value();
  };
  mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  return events_.size() >= count;
}

absl::optional<grpc::Status> TaskWatcher::AwaitEnd(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ended = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return end_.has_value();
  };
  mu_.AwaitWithTimeout(absl::Condition(&ended), timeout);
  return end_;
}

absl::Time TaskWatcher::ended_at() const {
  absl::MutexLock lock(&mu_);
  return ended_at_;
}

std::string TaskWatcher::State() const {
  absl::MutexLock lock(&mu_);
  if (!end_.has_value()) return "open";
  return absl::StrCat("ended ",
                      absl::StatusCodeToString(
                          static_cast<absl::StatusCode>(end_->error_code())),
                      ": ", end_->error_message());
}

std::vector<ReceivedEvent> TaskWatcher::Events() const {
  absl::MutexLock lock(&mu_);
  return events_;
}

size_t TaskWatcher::event_count() const {
  absl::MutexLock lock(&mu_);
  return events_.size();
}

std::string TaskWatcher::LastResumeToken() const {
  absl::MutexLock lock(&mu_);
  return events_.empty() ? initial_token_ : events_.back().event.resume_token();
}

v1::WatchTasksRequest WatchFrom(const std::string& resume_token,
                                const std::string& filter) {
  v1::WatchTasksRequest request;
  request.set_resume_token(resume_token);
  request.set_filter(filter);
  return request;
}

absl::StatusOr<std::vector<v1::Task>> ListAll(v1::TaskService::Stub& stub,
                                              const std::string& filter,
                                              std::string* token) {
  std::vector<v1::Task> tasks;
  v1::ListTasksRequest request;
  request.set_filter(filter);
  request.set_page_size(1000);
  for (bool first = true;; first = false) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    v1::ListTasksResponse response;
    grpc::Status status = stub.ListTasks(&context, request, &response);
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          absl::StrCat("ListTasks: ", status.error_message()));
    }
    if (first && token != nullptr) *token = response.resume_token();
    tasks.insert(tasks.end(), response.tasks().begin(), response.tasks().end());
    if (response.next_page_token().empty()) return tasks;
    request.set_page_token(response.next_page_token());
  }
}

std::string CompareEvents(const std::vector<ReceivedEvent>& received,
                          const std::vector<ExpectedEvent>& expected) {
  std::string differences;
  int count = 0;
  auto differ = [&](size_t position, const std::string& what) {
    if (count++ < kMaxDifferences) {
      absl::StrAppend(&differences, "\n  at event ", position, ": ", what);
    }
  };
  size_t i = 0;
  while (i < expected.size()) {
    // One event, or a whole group, compared as a sorted run.
    size_t end = i + 1;
    while (expected[i].group != 0 && end < expected.size() &&
           expected[end].group == expected[i].group) {
      ++end;
    }
    std::vector<EventKey> want;
    std::vector<EventKey> got;
    for (size_t j = i; j < end; ++j) {
      want.push_back(KeyOf(expected[j]));
      if (j < received.size()) {
        got.push_back(KeyOf(received[j].event, !expected[j].etag.empty()));
      }
    }
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());
    if (got.size() < want.size()) {
      differ(std::min(received.size(), end),
             absl::StrCat("missing, want ", Describe(want[got.size()])));
      break;
    }
    for (size_t j = 0; j < want.size(); ++j) {
      if (got[j] != want[j]) {
        differ(i + j, absl::StrCat("got ", Describe(got[j]), ", want ",
                                   Describe(want[j])));
      }
    }
    i = end;
  }
  for (size_t j = expected.size(); j < received.size(); ++j) {
    differ(j, absl::StrCat("an extra event: ", Describe(received[j].event)));
  }
  if (count > kMaxDifferences) {
    absl::StrAppend(&differences, "\n  ... ", count - kMaxDifferences, " more");
  }
  if (count > 0) {
    absl::StrAppend(&differences, "\n  (", received.size(), " received, ",
                    expected.size(), " expected)");
  }
  return differences;
}

std::string Describe(const v1::TaskEvent& event) {
  return Describe(KeyOf(event, true));
}

}  // namespace tasks::reliability
