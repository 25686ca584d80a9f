#ifndef TASKS_SERVICE_COMPLETION_QUEUE_TAG_H_
#define TASKS_SERVICE_COMPLETION_QUEUE_TAG_H_

#include <grpcpp/grpcpp.h>

namespace tasks::service {

// CompletionQueueTag
//
// What every tag handed to the server's completion queues points to: the
// object waiting for that event. Each async call object is one.
class CompletionQueueTag {
 public:
  virtual ~CompletionQueueTag() = default;

  // The event happened (`ok`) or failed (the call or server is gone).
  virtual void Proceed(bool ok) = 0;
};

// Hands each event of `queue` to its tag until the queue is shut down and
// drained.
inline void ProceedUntilShutdown(grpc::ServerCompletionQueue& queue) {
  void* tag = nullptr;
  bool ok = false;
  while (queue.Next(&tag, &ok)) {
    static_cast<CompletionQueueTag*>(tag)->Proceed(ok);
  }
}

}  // namespace tasks::service

#endif  // TASKS_SERVICE_COMPLETION_QUEUE_TAG_H_
