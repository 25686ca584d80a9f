#ifndef TASKS_TESTS_TESTING_TASK_SERVER_PROCESS_H_
#define TASKS_TESTS_TESTING_TASK_SERVER_PROCESS_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.pb.h"

namespace tasks::testing {

using ServingStatus = ::grpc::health::v1::HealthCheckResponse::ServingStatus;

// The environment variable naming the task_server binary; tests set it with
// `env = {"TASK_SERVER_BINARY": "$(rootpath //service:task_server)"}`.
inline constexpr char kTaskServerBinaryEnv[] = "TASK_SERVER_BINARY";

// How a TaskServerProcess runs the binary.
struct TaskServerOptions {
  // Path of the task_server binary; empty means kTaskServerBinaryEnv.
  std::string binary;
  // --db: a SQLite file or a PostgreSQL connection string.
  std::string db;
  // More flags, e.g. "--pool_size=4".
  std::vector<std::string> extra_flags;
  // A command the binary is run through (its first word a path), e.g.
  // {"/usr/bin/nsenter", "-t", "<pid>", "-m", "--"} to run it in another
  // mount namespace. It must exec the binary in its own process (no fork),
  // so that pid() is the server's.
  std::vector<std::string> launcher;
  // The server's stdout and stderr are appended here; empty means a file
  // named after the process in TEST_UNDECLARED_OUTPUTS_DIR (kept with the
  // test's outputs), else TEST_TMPDIR.
  std::string log_path;
  // Port on 127.0.0.1; 0 picks a free one at the first start. Restarts reuse
  // the port of the first start.
  int port = 0;
  // When positive, the server's soft RLIMIT_FSIZE, with SIGXFSZ ignored: a
  // write that would make any file larger than this fails with EFBIG (as on
  // a full disk) instead of killing the process. The hard limit stays
  // unlimited, so the test can raise the soft one on the running process
  // (prlimit) to model space being freed.
  int64_t file_size_limit_bytes = 0;
};

// TaskServerProcess
//
// The real task_server binary as a child process of the test, listening on
// 127.0.0.1, with helpers to kill, signal and restart it and to wait for its
// health status. The destructor SIGKILLs a process still running.
//
// Example:
//   TaskServerOptions options;
//   options.db = path;
//   absl::StatusOr<std::unique_ptr<TaskServerProcess>> server =
//       TaskServerProcess::Start(options);
//   ASSERT_TRUE(server.ok()) << server.status();
//   auto stub = v1::TaskService::NewStub((*server)->NewChannel());
//   ...
//   ASSERT_OK((*server)->Kill());
//   ASSERT_OK((*server)->Restart());
class TaskServerProcess {
 public:
  // Starts the server and waits until its health service answers (SERVING
  // or NOT_SERVING: a server whose database is down still answers). Fails
  // with the log's last lines when the process exits or does not answer
  // within 30 s.
  static absl::StatusOr<std::unique_ptr<TaskServerProcess>> Start(
      TaskServerOptions options);

  TaskServerProcess(const TaskServerProcess&) = delete;
  TaskServerProcess& operator=(const TaskServerProcess&) = delete;
  ~TaskServerProcess();

  // Starts the process again, same flags and port, after it has exited (Kill
  // or WaitForExit); waits as Start does. FAILED_PRECONDITION while running.
  absl::Status Restart();

  // SIGKILL, then reaps the process. OK when it was running and died of it.
  absl::Status Kill();

  // Sends `signal_number` to the running process.
  absl::Status Signal(int signal_number);

  // Waits up to `timeout` for the process to exit and returns its exit code;
  // INTERNAL when a signal ended it, DEADLINE_EXCEEDED when still running.
  absl::StatusOr<int> WaitForExit(absl::Duration timeout);

  // False once the process has exited (reaping it).
  bool Running();

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  // "127.0.0.1:<port>".
  std::string address() const;
  const std::string& log_path() const { return options_.log_path; }

  // The last `lines` lines of the server's log, for failure messages.
  std::string LogTail(int lines = 20) const;

  // A new channel to the server with a connection of its own, reconnecting
  // within 100..500 ms after the server comes back (gRPC's default backoff
  // grows to minutes). Its calls wait for a connection, within their
  // deadlines (WaitForReadyChannelArguments).
  std::shared_ptr<grpc::Channel> NewChannel() const;

  // As NewChannel, but calls fail at once with UNAVAILABLE while the channel
  // cannot connect: for tests of what clients see while the server is down.
  // Returned connected (or after 10 s of trying), so that its first calls do
  // not meet a spurious connect failure (see WaitForReadyChannelArguments).
  std::shared_ptr<grpc::Channel> NewFailFastChannel() const;

  // The overall ("") health status, or the error of the Check call (made
  // with `timeout`).
  absl::StatusOr<ServingStatus> Health(
      absl::Duration timeout = absl::Seconds(1));

  // Polls Health() every 10 ms until it is `want`. Returns how long that
  // took; DEADLINE_EXCEEDED (with the last answer) after `timeout`.
  absl::StatusOr<absl::Duration> WaitForHealth(ServingStatus want,
                                               absl::Duration timeout);

 private:
  explicit TaskServerProcess(TaskServerOptions options)
      : options_(std::move(options)) {}

  // Forks and execs the binary on port_.
  absl::Status Spawn();

  // Waits until the health service answers, the process exits, or 30 s.
  absl::Status AwaitAnswering();

  // Records a finished process's wait status.
  void Reaped(int wait_status);

  // A fail-fast channel that has not tried to connect yet: health checks
  // must answer at once whether or not the server is up.
  std::shared_ptr<grpc::Channel> UnconnectedFailFastChannel() const;

  TaskServerOptions options_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool running_ = false;
  int wait_status_ = 0;
  std::shared_ptr<grpc::Channel> health_channel_;
};

// Channel arguments for test clients: reconnect quickly after an outage and
// keep a connection of their own (no subchannel shared with other channels).
grpc::ChannelArguments FastReconnectChannelArguments();

// FastReconnectChannelArguments whose calls all wait for the channel to be
// ready (bounded by their deadlines), as a client that retries a failed
// connect would. A loaded test machine occasionally fails a loopback connect
// outright; a fail-fast call then fails although the server is up.
grpc::ChannelArguments WaitForReadyChannelArguments();

}  // namespace tasks::testing

#endif  // TASKS_TESTS_TESTING_TASK_SERVER_PROCESS_H_
