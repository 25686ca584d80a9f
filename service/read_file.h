#ifndef TASKS_SERVICE_READ_FILE_H_
#define TASKS_SERVICE_READ_FILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace tasks::service {

// ReadFile()
//
// The whole content of the file at `path`. INVALID_ARGUMENT when it cannot be
// read, with a message naming the path and the system's reason ("No such file
// or directory", "Permission denied", "Is a directory").
//
// Example:
//   absl::StatusOr<std::string> pem = ReadFile("/etc/tasks/server.pem");
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace tasks::service

#endif  // TASKS_SERVICE_READ_FILE_H_
