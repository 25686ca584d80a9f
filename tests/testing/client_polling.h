#ifndef TASKS_TESTS_TESTING_CLIENT_POLLING_H_
#define TASKS_TESTS_TESTING_CLIENT_POLLING_H_

#include <atomic>
#include <thread>

namespace tasks::testing {

// ClientPolling
//
// Keeps this process's gRPC connections serviced while none of its threads
// is in a call. A C++ client reads its sockets only from threads polling a
// completion queue or waiting on a call; idle, it never answers the GOAWAY
// and PING that a draining server sends, and the server then waits for its
// whole drain deadline for connections a live client (any client library
// with a reader of its own) would have closed at once. A test of how fast a
// server drains holds one of these meanwhile, as a real client process
// would be.
//
// Example:
//   ClientPolling polling;
//   server->Signal(SIGTERM);
//   server->WaitForExit(timeout);
class ClientPolling {
 public:
  ClientPolling();
  ClientPolling(const ClientPolling&) = delete;
  ClientPolling& operator=(const ClientPolling&) = delete;
  ~ClientPolling();

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace tasks::testing

#endif  // TASKS_TESTS_TESTING_CLIENT_POLLING_H_
