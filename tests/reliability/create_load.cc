#include "tests/reliability/create_load.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tasks/v1/tasks.grpc.pb.h"

namespace tasks::reliability {

CreateLoad::CreateLoad(ChannelFactory make_channel, CreateLoadOptions options)
    : make_channel_(std::move(make_channel)), options_(std::move(options)) {}

CreateLoad::~CreateLoad() { Stop(); }

void CreateLoad::Start() {
  for (int client = 0; client < options_.clients; ++client) {
    threads_.emplace_back([this, client] { RunClient(client); });
  }
}

void CreateLoad::Stop() {
  stopping_ = true;
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void CreateLoad::RunClient(int client) {
  std::unique_ptr<v1::TaskService::Stub> stub =
      v1::TaskService::NewStub(make_channel_());
  for (int64_t sequence = 0; !stopping_; ++sequence) {
    v1::CreateTaskRequest request;
    v1::Task* task = request.mutable_task();
    task->set_project_id(options_.project_id);
    task->set_title(
        absl::StrCat(options_.title_prefix, "-", client, "-", sequence));
    task->set_description(std::string(options_.description_length, 'x'));
    v1::Task created;
    grpc::ClientContext context;
    CreateOutcome outcome;
    outcome.start = absl::Now();
    context.set_deadline(
        absl::ToChronoTime(outcome.start + options_.call_deadline));
    ++in_flight_;
    grpc::Status status = stub->CreateTask(&context, request, &created);
    --in_flight_;
    outcome.end = absl::Now();
    outcome.code = status.error_code();
    outcome.message = status.error_message();
    {
      absl::MutexLock lock(&mu_);
      if (status.ok()) acknowledged_[created.id()] = task->title();
      outcomes_.push_back(std::move(outcome));
    }
    if (!status.ok()) absl::SleepFor(options_.pause_after_failure);
  }
}

std::map<int64_t, std::string> CreateLoad::Acknowledged() const {
  absl::MutexLock lock(&mu_);
  return acknowledged_;
}

int64_t CreateLoad::acknowledged_count() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(acknowledged_.size());
}

std::vector<CreateOutcome> CreateLoad::Outcomes() const {
  absl::MutexLock lock(&mu_);
  return outcomes_;
}

OutcomeSummary Summarize(const std::vector<CreateOutcome>& outcomes,
                         absl::Duration deadline, absl::Time from,
                         absl::Time to) {
  OutcomeSummary summary;
  for (const CreateOutcome& outcome : outcomes) {
    if (outcome.end < from || outcome.end >= to) continue;
    ++summary.calls;
    ++summary.codes[outcome.code];
    const absl::Duration latency = outcome.end - outcome.start;
    summary.max_latency = std::max(summary.max_latency, latency);
    if (latency > deadline + absl::Milliseconds(100)) ++summary.overdue;
    if (outcome.code != grpc::StatusCode::OK) {
      summary.sample_messages.emplace(outcome.code, outcome.message);
    }
  }
  return summary;
}

std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

std::string CodeCounts(const OutcomeSummary& summary) {
  std::vector<std::string> parts;
  for (const auto& [code, count] : summary.codes) {
    parts.push_back(absl::StrCat(CodeName(code), "=", count));
  }
  return parts.empty() ? "none" : absl::StrJoin(parts, " ");
}

std::string UnexpectedCodes(const OutcomeSummary& summary,
                            const std::vector<grpc::StatusCode>& allowed) {
  std::vector<std::string> parts;
  for (const auto& [code, count] : summary.codes) {
    bool ok = false;
    for (grpc::StatusCode allowed_code : allowed) ok |= code == allowed_code;
    if (ok) continue;
    auto sample = summary.sample_messages.find(code);
    parts.push_back(absl::StrCat(
        CodeName(code), " x", count, " (e.g. \"",
        sample != summary.sample_messages.end() ? sample->second : "", "\")"));
  }
  return absl::StrJoin(parts, "; ");
}

}  // namespace tasks::reliability
