#ifndef TASKS_SERVICE_LIBRARY_LOGS_H_
#define TASKS_SERVICE_LIBRARY_LOGS_H_

namespace tasks::service {

// From now on the log lines of gRPC (gpr_log) and of Protobuf (GOOGLE_LOG,
// e.g. a request with invalid UTF-8 in a string field) go through the
// server's logger (service/logging.h), in its format and subject to its
// level, rather than to stderr in each library's own format: a line reads
// "grpc <file>:<line> <message>" (or "protobuf ..."), and in JSON has
// "source", "file" and "line". gRPC still drops lines below its
// GRPC_VERBOSITY (ERROR unless set) before they get here. Protobuf's error
// about a request it could not parse is logged as a warning: the fault is
// the client's. Call once at start-up, before gRPC is used.
void RouteLibraryLogsToLogger();

}  // namespace tasks::service

#endif  // TASKS_SERVICE_LIBRARY_LOGS_H_
