#ifndef TASKS_TESTS_TESTING_METRICS_SCRAPE_H_
#define TASKS_TESTS_TESTING_METRICS_SCRAPE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tasks::testing {

// The body of a 200 answer to "GET <path>" on 127.0.0.1:<port>, over a
// plain socket (HTTP/1.0, so the server closes when done). UNAVAILABLE when
// nothing answers, INTERNAL for another status, DEADLINE_EXCEEDED after
// `timeout`.
absl::StatusOr<std::string> HttpGet(int port, absl::string_view path,
                                    absl::Duration timeout = absl::Seconds(5));

// MetricSamples
//
// The samples of one scrape in Prometheus's text exposition format, looked
// up by metric name and labels (in any order).
//
// Example:
//   ASSERT_OK_AND_ASSIGN(MetricSamples now,
//                        MetricSamples::Scrape(metrics_port));
//   double ok = now.Value("grpc_server_handled_total",
//                         {{"grpc_method", "GetTask"}, {"grpc_code", "OK"}});
class MetricSamples {
 public:
  using Labels = std::map<std::string, std::string>;

  // INVALID_ARGUMENT names the first line that is not a comment, blank, or
  // `name{labels} value`.
  static absl::StatusOr<MetricSamples> Parse(absl::string_view text);

  // HttpGet(port, "/metrics"), parsed.
  static absl::StatusOr<MetricSamples> Scrape(int port);

  // The value of the sample named `name` whose labels include `labels`; the
  // sum when several match. 0 when none does (a series not made yet).
  double Value(absl::string_view name, const Labels& labels = {}) const;

  // Whether a sample named `name` has exactly `labels`.
  bool Has(absl::string_view name, const Labels& labels = {}) const;

 private:
  struct Sample {
    std::string name;
    Labels labels;
    double value;
  };
  std::vector<Sample> samples_;
};

}  // namespace tasks::testing

#endif  // TASKS_TESTS_TESTING_METRICS_SCRAPE_H_
