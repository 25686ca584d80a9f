#include "tests/testing/metrics_scrape.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace tasks::testing {
namespace {

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Parses `name{a="x",b="y"}` (no escaped quotes: this server's label values
// have none).
bool ParseSeries(absl::string_view series, std::string* name,
                 MetricSamples::Labels* labels) {
  const size_t brace = series.find('{');
  *name = std::string(series.substr(0, brace));
  if (brace == absl::string_view::npos) return !name->empty();
  absl::string_view rest = series.substr(brace + 1);
  if (!absl::ConsumeSuffix(&rest, "}")) return false;
  if (rest.empty()) return true;
  for (absl::string_view pair : absl::StrSplit(rest, ',')) {
    const size_t equals = pair.find('=');
    if (equals == absl::string_view::npos) return false;
    absl::string_view value = pair.substr(equals + 1);
    if (!absl::ConsumePrefix(&value, "\"") ||
        !absl::ConsumeSuffix(&value, "\"")) {
      return false;
    }
    (*labels)[std::string(pair.substr(0, equals))] = std::string(value);
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> HttpGet(int port, absl::string_view path,
                                    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  Socket socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (socket.fd() < 0) return absl::InternalError(std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(socket.fd(), reinterpret_cast<sockaddr*>(&address),
              sizeof(address)) != 0) {
    return absl::UnavailableError(absl::StrCat("connect to 127.0.0.1:", port,
                                               ": ", std::strerror(errno)));
  }
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  if (send(socket.fd(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return absl::UnavailableError("sending the request failed");
  }
  std::string answer;
  char buffer[16384];
  while (true) {
    const int wait_ms =
        static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    pollfd poll_fd{socket.fd(), POLLIN, 0};
    if (wait_ms <= 0 || poll(&poll_fd, 1, wait_ms) <= 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("no complete answer from 127.0.0.1:", port, path));
    }
    const ssize_t got = recv(socket.fd(), buffer, sizeof(buffer), 0);
    if (got < 0) return absl::UnavailableError(std::strerror(errno));
    if (got == 0) break;
    answer.append(buffer, got);
  }
  const size_t body = answer.find("\r\n\r\n");
  if (body == std::string::npos) {
    return absl::InternalError("an answer without headers");
  }
  const absl::string_view status_line =
      absl::string_view(answer).substr(0, answer.find("\r\n"));
  if (!absl::StrContains(status_line, " 200 ")) {
    return absl::InternalError(absl::StrCat("answered ", status_line));
  }
  return answer.substr(body + 4);
}

absl::StatusOr<MetricSamples> MetricSamples::Parse(absl::string_view text) {
  MetricSamples samples;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    Sample sample;
    if (space == absl::string_view::npos ||
        !ParseSeries(line.substr(0, space), &sample.name, &sample.labels) ||
        !absl::SimpleAtod(line.substr(space + 1), &sample.value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("not a metric sample: \"", line, "\""));
    }
    samples.samples_.push_back(std::move(sample));
  }
  return samples;
}

absl::StatusOr<MetricSamples> MetricSamples::Scrape(int port) {
  absl::StatusOr<std::string> text = HttpGet(port, "/metrics");
  if (!text.ok()) return text.status();
  return Parse(*text);
}

double MetricSamples::Value(absl::string_view name,
                            const Labels& labels) const {
  double sum = 0;
  for (const Sample& sample : samples_) {
    if (sample.name != name) continue;
    bool match = true;
    for (const auto& [key, value] : labels) {
      auto found = sample.labels.find(key);
      match = match && found != sample.labels.end() && found->second == value;
    }
    if (match) sum += sample.value;
  }
  return sum;
}

bool MetricSamples::Has(absl::string_view name, const Labels& labels) const {
  for (const Sample& sample : samples_) {
    if (sample.name == name && sample.labels == labels) return true;
  }
  return false;
}

}  // namespace tasks::testing
