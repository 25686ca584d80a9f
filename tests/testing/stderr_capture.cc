#include "tests/testing/stderr_capture.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "service/logging.h"

namespace tasks::testing {

StderrCapture::StderrCapture() {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string pattern =
      std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") +
      "/stderr_XXXXXX";
  int fd = mkstemp(pattern.data());
  if (fd < 0) {
    ADD_FAILURE() << "mkstemp " << pattern << " failed";
    return;
  }
  // Lines logged before the capture are not part of it.
  service::FlushLog();
  std::fflush(stderr);
  saved_fd_ = dup(STDERR_FILENO);
  if (saved_fd_ < 0 || dup2(fd, STDERR_FILENO) < 0) {
    ADD_FAILURE() << "cannot redirect stderr";
    if (saved_fd_ >= 0) close(saved_fd_);
    saved_fd_ = -1;
    close(fd);
    unlink(pattern.c_str());
    return;
  }
  close(fd);
  path_ = pattern;
}

StderrCapture::~StderrCapture() { Stop(); }

std::string StderrCapture::Stop() {
  if (saved_fd_ < 0) return "";
  service::FlushLog();  // the server's logger buffers its info lines
  std::fflush(stderr);
  dup2(saved_fd_, STDERR_FILENO);
  close(saved_fd_);
  saved_fd_ = -1;
  std::ifstream file(path_, std::ios::binary);
  std::stringstream contents;
  contents << file.rdbuf();
  unlink(path_.c_str());
  return contents.str();
}

}  // namespace tasks::testing
