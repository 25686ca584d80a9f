#ifndef TASKS_SERVICE_HEALTH_SERVICE_H_
#define TASKS_SERVICE_HEALTH_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

namespace tasks::service {
namespace health_internal {
struct HealthState;
}  // namespace health_internal

// HealthService
//
// The standard grpc.health.v1.Health service, served on the server's own
// completion queues: gRPC's built-in one runs on threads of its own, which
// on a small machine take network work away from the queue threads (a
// thread hand-off per call). It knows the overall status ("") and each name
// in `services`; all follow SetServing() and start NOT_SERVING.
//   Check  the status; an unknown service is NOT_FOUND.
//   Watch  the status at once and after every change (SERVICE_UNKNOWN for an
//          unknown service). On Shutdown() it sends NOT_SERVING and ends the
//          stream with UNAVAILABLE, so that watchers do not hold up the
//          server's shutdown. A stream the client cancels or drops is freed
//          at once. At most `max_watches` streams are open at a time: one
//          more is ended with RESOURCE_EXHAUSTED (reason RESOURCE_EXHAUSTED),
//          so that watchers cannot take the server's memory.
// Thread-safe.
//
// Example:
//   HealthService health({"tasks.v1.TaskService"});
//   builder.RegisterService(&health.async_service());
//   ... once built, for each of the server's queues: health.AwaitCalls(*cq);
//   health.SetServing(true);
//   ...
//   health.Shutdown();  // Before grpc::Server::Shutdown().
class HealthService {
 public:
  static constexpr int kDefaultMaxWatches = 1000;

  // `max_watches` must be positive.
  explicit HealthService(std::vector<std::string> services,
                         int max_watches = kDefaultMaxWatches);
  HealthService(const HealthService&) = delete;
  HealthService& operator=(const HealthService&) = delete;
  ~HealthService();

  // To register with the ServerBuilder.
  grpc::Service& async_service();

  // Waits for Check and Watch calls on `queue`, one of the server's, which
  // must be polled until the server has shut down.
  void AwaitCalls(grpc::ServerCompletionQueue& queue);

  // Watch streams open now: started, and neither ended nor cancelled.
  int watch_count() const;

  // Sets every status; ignored after Shutdown().
  void SetServing(bool serving);

  // Every status NOT_SERVING for good; watch streams are told, then ended.
  void Shutdown();

 private:
  std::unique_ptr<health_internal::HealthState> state_;
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_HEALTH_SERVICE_H_
