#include "tests/testing/task_server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/testing/loopback_port.h"

namespace tasks::testing {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

constexpr absl::Duration kStartTimeout = absl::Seconds(30);
constexpr int kPortAttempts = 5;

std::string ErrnoText(int error) { return std::strerror(error); }

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return absl::StrCat("exited with code ", WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    return absl::StrCat("was killed by signal ", WTERMSIG(wait_status), " (",
                        strsignal(WTERMSIG(wait_status)), ")");
  }
  return absl::StrCat("wait status ", wait_status);
}

std::string DefaultLogPath() {
  static std::atomic<int> counter{0};
  const char* dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  if (dir == nullptr || *dir == '\0') dir = std::getenv("TEST_TMPDIR");
  if (dir == nullptr || *dir == '\0') dir = "/tmp";
  return absl::StrCat(dir, "/task_server_", getpid(), "_", counter++, ".log");
}

}  // namespace

grpc::ChannelArguments FastReconnectChannelArguments() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  // Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC uses it as the minimum
  // connect timeout too, and at 100 ms a handshake on a busy machine fails
  // the channel's calls with UNAVAILABLE. A refused connect (server down)
  // fails at once regardless, so the 20 s default costs restarts nothing.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS, 100);
  return args;
}

grpc::ChannelArguments WaitForReadyChannelArguments() {
  grpc::ChannelArguments args = FastReconnectChannelArguments();
  args.SetServiceConfigJSON(
      R"({"methodConfig": [{"name": [{}], "waitForReady": true}]})");
  return args;
}

absl::StatusOr<std::unique_ptr<TaskServerProcess>> TaskServerProcess::Start(
    TaskServerOptions options) {
  if (options.binary.empty()) {
    const char* binary = std::getenv(kTaskServerBinaryEnv);
    if (binary == nullptr || *binary == '\0') {
      return absl::FailedPreconditionError(absl::StrCat(
          kTaskServerBinaryEnv, " is not set: give the test env = {\"",
          kTaskServerBinaryEnv,
          "\": \"$(rootpath //service:task_server)\"} and the binary as data"));
    }
    options.binary = binary;
  }
  if (!options.binary.empty() && options.binary[0] != '/') {
    // A launcher may change the working directory (nsenter does).
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) == nullptr) {
      return absl::InternalError(absl::StrCat("getcwd: ", ErrnoText(errno)));
    }
    options.binary = absl::StrCat(cwd, "/", options.binary);
  }
  if (access(options.binary.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "task_server binary ", options.binary, ": ", ErrnoText(errno)));
  }
  if (options.log_path.empty()) options.log_path = DefaultLogPath();
  const bool pick_port = options.port == 0;
  std::unique_ptr<TaskServerProcess> server(
      new TaskServerProcess(std::move(options)));
  absl::Status status;
  // A picked port may be taken by someone else before the server binds it.
  for (int attempt = 1; attempt <= (pick_port ? kPortAttempts : 1); ++attempt) {
    if (pick_port) {
      absl::StatusOr<int> port = FreeLoopbackPort();
      if (!port.ok()) return port.status();
      server->port_ = *port;
    } else {
      server->port_ = server->options_.port;
    }
    status = server->Spawn();
    if (status.ok()) status = server->AwaitAnswering();
    if (status.ok()) return server;
    if (!absl::StrContains(status.message(), "cannot listen")) break;
  }
  return status;
}

TaskServerProcess::~TaskServerProcess() {
  if (Running()) Kill().IgnoreError();
}

std::string TaskServerProcess::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

absl::Status TaskServerProcess::Restart() {
  if (Running()) {
    return absl::FailedPreconditionError(
        absl::StrCat("task_server pid ", pid_, " is still running"));
  }
  absl::Status status = Spawn();
  if (status.ok()) status = AwaitAnswering();
  return status;
}

absl::Status TaskServerProcess::Spawn() {
  std::vector<std::string> argv = options_.launcher;
  argv.insert(argv.end(),
              {options_.binary, absl::StrCat("--listen=", address()),
               absl::StrCat("--db=", options_.db)});
  argv.insert(argv.end(), options_.extra_flags.begin(),
              options_.extra_flags.end());
  {
    std::ofstream log(options_.log_path, std::ios::app);
    log << "=== " << absl::StrJoin(argv, " ") << "\n";
  }
  // Only async-signal-safe calls between fork and exec: prepare everything.
  std::vector<char*> c_argv;
  for (std::string& arg : argv) c_argv.push_back(arg.data());
  c_argv.push_back(nullptr);
  const char* log = options_.log_path.c_str();
  const rlim_t file_size_limit =
      options_.file_size_limit_bytes > 0
          ? static_cast<rlim_t>(options_.file_size_limit_bytes)
          : RLIM_INFINITY;
  sigset_t no_signals;
  sigemptyset(&no_signals);

  const pid_t pid = fork();
  if (pid < 0)
    return absl::InternalError(absl::StrCat("fork: ", ErrnoText(errno)));
  if (pid == 0) {
    const int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out < 0 || in < 0) _exit(126);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    // The test's threads may block or ignore signals; the server must see
    // SIGTERM as a fresh process would.
    sigprocmask(SIG_SETMASK, &no_signals, nullptr);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    if (file_size_limit != RLIM_INFINITY) {
      // Ignored dispositions survive exec: EFBIG instead of death.
      signal(SIGXFSZ, SIG_IGN);
      // Only the soft limit: the test may raise it again (prlimit) without
      // privileges, as an operator would free space.
      rlimit limit = {file_size_limit, RLIM_INFINITY};
      if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(125);
    }
    execv(c_argv[0], c_argv.data());
    static constexpr char kExecFailed[] = "exec failed\n";
    (void)!write(STDERR_FILENO, kExecFailed, sizeof(kExecFailed) - 1);
    _exit(127);
  }
  pid_ = pid;
  running_ = true;
  health_channel_ = UnconnectedFailFastChannel();
  return absl::OkStatus();
}

absl::Status TaskServerProcess::AwaitAnswering() {
  const absl::Time give_up = absl::Now() + kStartTimeout;
  absl::Status last;
  while (absl::Now() < give_up) {
    if (!Running()) {
      return absl::UnavailableError(
          absl::StrCat("task_server ", DescribeWaitStatus(wait_status_),
                       " before answering; ", LogTail()));
    }
    absl::StatusOr<ServingStatus> health = Health(absl::Milliseconds(200));
    if (health.ok()) return absl::OkStatus();
    last = health.status();
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "task_server on ", address(), " did not answer health checks within ",
      absl::FormatDuration(kStartTimeout), " (last: ", last.ToString(), "); ",
      LogTail()));
}

void TaskServerProcess::Reaped(int wait_status) {
  wait_status_ = wait_status;
  running_ = false;
}

bool TaskServerProcess::Running() {
  if (!running_) return false;
  int wait_status = 0;
  if (waitpid(pid_, &wait_status, WNOHANG) == pid_) Reaped(wait_status);
  return running_;
}

absl::Status TaskServerProcess::Kill() {
  if (!Running()) {
    return absl::FailedPreconditionError(
        absl::StrCat("task_server already ", DescribeWaitStatus(wait_status_)));
  }
  kill(pid_, SIGKILL);
  int wait_status = 0;
  while (waitpid(pid_, &wait_status, 0) < 0) {
    if (errno != EINTR) {
      return absl::InternalError(absl::StrCat("waitpid: ", ErrnoText(errno)));
    }
  }
  Reaped(wait_status);
  if (!WIFSIGNALED(wait_status) || WTERMSIG(wait_status) != SIGKILL) {
    return absl::InternalError(absl::StrCat(
        "task_server ", DescribeWaitStatus(wait_status), " before SIGKILL"));
  }
  return absl::OkStatus();
}

absl::Status TaskServerProcess::Signal(int signal_number) {
  if (!Running()) {
    return absl::FailedPreconditionError(
        absl::StrCat("task_server already ", DescribeWaitStatus(wait_status_)));
  }
  // An idle connection delays a graceful shutdown: the server waits (up to
  // its drain timeout) for the client to close it after GOAWAY, which an
  // idle gRPC client only notices when it next polls. Health() reconnects.
  health_channel_.reset();
  if (kill(pid_, signal_number) != 0) {
    return absl::InternalError(absl::StrCat("kill: ", ErrnoText(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> TaskServerProcess::WaitForExit(absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (Running()) {
    if (absl::Now() >= give_up) {
      return absl::DeadlineExceededError(
          absl::StrCat("task_server pid ", pid_, " still running after ",
                       absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  if (!WIFEXITED(wait_status_)) {
    return absl::InternalError(
        absl::StrCat("task_server ", DescribeWaitStatus(wait_status_)));
  }
  return WEXITSTATUS(wait_status_);
}

std::string TaskServerProcess::LogTail(int lines) const {
  std::ifstream in(options_.log_path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::vector<std::string> all =
      absl::StrSplit(buffer.str(), '\n', absl::SkipEmpty());
  if (static_cast<int>(all.size()) > lines) {
    all.erase(all.begin(), all.end() - lines);
  }
  return absl::StrCat("log ", options_.log_path, ":\n  ",
                      absl::StrJoin(all, "\n  "));
}

std::shared_ptr<grpc::Channel> TaskServerProcess::NewChannel() const {
  return grpc::CreateCustomChannel(address(),
                                   grpc::InsecureChannelCredentials(),
                                   WaitForReadyChannelArguments());
}

std::shared_ptr<grpc::Channel> TaskServerProcess::NewFailFastChannel() const {
  std::shared_ptr<grpc::Channel> channel = UnconnectedFailFastChannel();
  channel->WaitForConnected(
      absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  return channel;
}

std::shared_ptr<grpc::Channel> TaskServerProcess::UnconnectedFailFastChannel()
    const {
  return grpc::CreateCustomChannel(address(),
                                   grpc::InsecureChannelCredentials(),
                                   FastReconnectChannelArguments());
}

absl::StatusOr<ServingStatus> TaskServerProcess::Health(
    absl::Duration timeout) {
  if (health_channel_ == nullptr)
    health_channel_ = UnconnectedFailFastChannel();
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  HealthCheckRequest request;
  HealthCheckResponse response;
  grpc::Status status =
      Health::NewStub(health_channel_)->Check(&context, request, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        absl::StrCat("health check: ", status.error_message()));
  }
  return response.status();
}

absl::StatusOr<absl::Duration> TaskServerProcess::WaitForHealth(
    ServingStatus want, absl::Duration timeout) {
  const absl::Time start = absl::Now();
  std::string last = "no answer";
  while (absl::Now() - start < timeout) {
    absl::StatusOr<ServingStatus> health = Health(absl::Milliseconds(200));
    if (health.ok() && *health == want) return absl::Now() - start;
    last = health.ok() ? HealthCheckResponse::ServingStatus_Name(*health)
                       : health.status().ToString();
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "health did not become ", HealthCheckResponse::ServingStatus_Name(want),
      " within ", absl::FormatDuration(timeout), " (last: ", last, ")"));
}

}  // namespace tasks::testing
