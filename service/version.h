#ifndef TASKS_SERVICE_VERSION_H_
#define TASKS_SERVICE_VERSION_H_

namespace tasks::service {

// The task server's version (semantic versioning), as `--version` prints it.
inline constexpr char kVersion[] = "1.0.0";

}  // namespace tasks::service

#endif  // TASKS_SERVICE_VERSION_H_
