#ifndef TASKS_SERVICE_TERMINATION_SIGNAL_H_
#define TASKS_SERVICE_TERMINATION_SIGNAL_H_

namespace tasks::service {

// Blocks SIGINT and SIGTERM in the calling thread and in every thread it
// starts afterwards, so that they stay pending for WaitForTerminationSignal()
// instead of killing the process. Call at the top of main(), before any
// thread (gRPC's included) exists.
void BlockTerminationSignals();

// Waits until SIGINT or SIGTERM arrives; returns the signal's number.
// Requires BlockTerminationSignals().
int WaitForTerminationSignal();

}  // namespace tasks::service

#endif  // TASKS_SERVICE_TERMINATION_SIGNAL_H_
