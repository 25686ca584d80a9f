#ifndef TASKS_TESTS_TESTING_LOOPBACK_PORT_H_
#define TASKS_TESTS_TESTING_LOOPBACK_PORT_H_

#include "absl/status/statusor.h"

namespace tasks::testing {

// A TCP port on 127.0.0.1 that nobody listens on right now. Another process
// may take it before the caller binds it: servers started on it retry with a
// new one when it is taken.
absl::StatusOr<int> FreeLoopbackPort();

}  // namespace tasks::testing

#endif  // TASKS_TESTS_TESTING_LOOPBACK_PORT_H_
