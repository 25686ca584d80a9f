#ifndef TASKS_SERVICE_METHOD_METRICS_H_
#define TASKS_SERVICE_METHOD_METRICS_H_

#include <grpcpp/support/status.h>

#include <array>
#include <atomic>
#include <chrono>
#include <string>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace tasks::service {

// MethodMetrics
//
// The metrics of one RPC method, resolved once when the server starts: a
// call's start and end cost a clock read and a few atomic updates each, with
// no lookup by name or label (which would cost a map search and string
// building per call). Made by ServerMetrics::ForMethod. Thread-safe.
//
// Example:
//   MethodMetrics& metrics = server_metrics.ForMethod("tasks.v1.TaskService",
//                                                     "GetTask");
//   MethodMetrics::Clock::time_point started = metrics.Started();
//   ...
//   metrics.Finished(started, grpc::StatusCode::NOT_FOUND);
class MethodMetrics {
 public:
  using Clock = std::chrono::steady_clock;

  MethodMetrics(const MethodMetrics&) = delete;
  MethodMetrics& operator=(const MethodMetrics&) = delete;

  // A call arrived: counts it in flight and returns its start.
  Clock::time_point Started();

  // The call that Started() at `started` is answered with `code`: counts it
  // and its latency, and takes it out of flight.
  void Finished(Clock::time_point started, grpc::StatusCode code) {
    Count(Answered(started), code);
  }

  // Finished() in two steps, for a call whose code is known later than its
  // answer: takes it out of flight and returns its latency...
  Clock::duration Answered(Clock::time_point started);
  // ... and counts it with that latency.
  void Count(Clock::duration latency, grpc::StatusCode code);

 private:
  friend class ServerMetrics;
  static constexpr int kCodes = 17;  // OK .. UNAUTHENTICATED

  MethodMetrics(std::string service, std::string method,
                prometheus::Gauge& in_flight,
                const std::array<prometheus::Counter*, kCodes>& handled,
                prometheus::Family<prometheus::Histogram>& latency);

  // The latency histogram of `code`, made on the code's first call: a
  // histogram per method and code made up front would be thousands of
  // series, most never used.
  prometheus::Histogram& Latency(int code);

  const std::string service_;
  const std::string method_;
  prometheus::Gauge& in_flight_;
  const std::array<prometheus::Counter*, kCodes> handled_;
  prometheus::Family<prometheus::Histogram>& latency_family_;
  std::array<std::atomic<prometheus::Histogram*>, kCodes> latency_{};
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_METHOD_METRICS_H_
