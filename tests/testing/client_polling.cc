#include "tests/testing/client_polling.h"

#include <grpcpp/alarm.h>
#include <grpcpp/completion_queue.h>

#include <chrono>

namespace tasks::testing {

ClientPolling::ClientPolling() {
  thread_ = std::thread([this] {
    grpc::CompletionQueue queue;
    grpc::Alarm alarm;
    void* tag = nullptr;
    bool ok = false;
    // Polling the queue polls every connection of the process; the alarm
    // only bounds each wait, so that the stop flag is seen.
    while (!stop_.load()) {
      alarm.Set(
          &queue,
          std::chrono::system_clock::now() + std::chrono::milliseconds(20),
          &alarm);
      queue.Next(&tag, &ok);
    }
    queue.Shutdown();
    while (queue.Next(&tag, &ok)) {
    }
  });
}

ClientPolling::~ClientPolling() {
  stop_.store(true);
  thread_.join();
}

}  // namespace tasks::testing
