#ifndef TASKS_TESTS_RELIABILITY_HEALTH_WATCHER_H_
#define TASKS_TESTS_RELIABILITY_HEALTH_WATCHER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace tasks::reliability {

// HealthWatcher
//
// A grpc.health.v1 Watch stream, recording when NOT_SERVING first arrives
// after SERVING; ends the stream then (the server would otherwise keep it
// open through the whole drain).
//
// Example:
//   HealthWatcher health(server->NewChannel());
//   ASSERT_TRUE(health.AwaitServing(absl::Seconds(10)));
//   server->Signal(SIGTERM);
//   absl::Time not_serving = health.AwaitNotServing(absl::Seconds(2));
class HealthWatcher {
 public:
  explicit HealthWatcher(std::shared_ptr<grpc::Channel> channel);
  HealthWatcher(const HealthWatcher&) = delete;
  HealthWatcher& operator=(const HealthWatcher&) = delete;
  ~HealthWatcher();

  // Waits until the stream has reported SERVING.
  bool AwaitServing(absl::Duration timeout);

  // When NOT_SERVING arrived; InfiniteFuture when it did not within
  // `timeout`.
  absl::Time AwaitNotServing(absl::Duration timeout);

 private:
  void Run();

  std::unique_ptr<grpc::health::v1::Health::Stub> stub_;
  grpc::ClientContext context_;
  absl::Mutex mu_;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time not_serving_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  std::thread thread_;
};

}  // namespace tasks::reliability

#endif  // TASKS_TESTS_RELIABILITY_HEALTH_WATCHER_H_
