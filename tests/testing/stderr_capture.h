#ifndef TASKS_TESTS_TESTING_STDERR_CAPTURE_H_
#define TASKS_TESTS_TESTING_STDERR_CAPTURE_H_

#include <string>

namespace tasks::testing {

// StderrCapture
//
// Sends everything the process writes to stderr (file descriptor 2: the
// server's log, protobuf's and gRPC's messages) to a temporary file from
// construction until Stop(), so that a test can read what was logged. Other
// threads' writes in that window are captured too. Not nestable.
//
// Example:
//   StderrCapture capture;
//   ... calls that may log ...
//   std::string log = capture.Stop();
class StderrCapture {
 public:
  StderrCapture();
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;
  ~StderrCapture();  // Stop() unless already stopped.

  // Restores stderr and returns what was written to it since construction
  // ("" if capturing could not start, which also fails the current test).
  std::string Stop();

 private:
  int saved_fd_ = -1;
  std::string path_;
};

}  // namespace tasks::testing

#endif  // TASKS_TESTS_TESTING_STDERR_CAPTURE_H_
