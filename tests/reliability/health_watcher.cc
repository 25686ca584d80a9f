#include "tests/reliability/health_watcher.h"

#include <utility>

#include "absl/time/clock.h"

namespace tasks::reliability {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

HealthWatcher::HealthWatcher(std::shared_ptr<grpc::Channel> channel)
    : stub_(Health::NewStub(std::move(channel))) {
  thread_ = std::thread([this] { Run(); });
}

HealthWatcher::~HealthWatcher() {
  context_.TryCancel();
  thread_.join();
}

bool HealthWatcher::AwaitServing(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&serving_), timeout);
}

absl::Time HealthWatcher::AwaitNotServing(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(
      absl::Condition(
          +[](absl::Time* t) { return *t != absl::InfiniteFuture(); },
          &not_serving_at_),
      timeout);
  return not_serving_at_;
}

void HealthWatcher::Run() {
  HealthCheckRequest request;
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> reader =
      stub_->Watch(&context_, request);
  HealthCheckResponse response;
  while (reader->Read(&response)) {
    absl::MutexLock lock(&mu_);
    if (response.status() == HealthCheckResponse::SERVING) {
      serving_ = true;
    } else if (serving_ &&
               response.status() == HealthCheckResponse::NOT_SERVING) {
      not_serving_at_ = absl::Now();
      break;
    }
  }
  context_.TryCancel();
  reader->Finish().IgnoreError();
}

}  // namespace tasks::reliability
