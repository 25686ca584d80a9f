#ifndef TASKS_TESTS_RELIABILITY_SMALL_FILESYSTEM_H_
#define TASKS_TESTS_RELIABILITY_SMALL_FILESYSTEM_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tasks::reliability {

// SmallFilesystem
//
// A tmpfs of a fixed size that a test can fill up, without touching the
// machine's mounts: it is mounted in a private mount namespace held by a
// child process (`unshare --mount`, which needs root or unprivileged user
// namespaces). Programs run in it through Enter(); the test itself reaches
// its files through /proc/<holder>/root (OutsidePath()). The destructor
// kills the holder, which unmounts the tmpfs with the namespace.
//
// Example:
//   absl::StatusOr<std::unique_ptr<SmallFilesystem>> fs =
//       SmallFilesystem::Mount(1 << 20);
//   options.launcher = (*fs)->Enter();
//   options.db = (*fs)->InsidePath("tasks.db");
//   ... QueryRawSql(kSqlite, (*fs)->OutsidePath("tasks.db"), ...)
class SmallFilesystem {
 public:
  // Mounts a tmpfs of `bytes` (a multiple of the page size) on a new
  // directory under TEST_TMPDIR, in a private mount namespace. Fails, with
  // the holder's output, when the namespace or the mount is refused.
  static absl::StatusOr<std::unique_ptr<SmallFilesystem>> Mount(int64_t bytes);

  SmallFilesystem(const SmallFilesystem&) = delete;
  SmallFilesystem& operator=(const SmallFilesystem&) = delete;
  ~SmallFilesystem();

  // `name` in the tmpfs as programs run through Enter() see it.
  std::string InsidePath(const std::string& name) const;

  // `name` in the tmpfs as this process sees it (through a /proc magic
  // link, which SQLite cannot open: it resolves links itself).
  std::string OutsidePath(const std::string& name) const;

  // Copies the SQLite database `name` and its WAL out of the tmpfs to
  // `destination` (and `destination`-wal), for raw SQL while no one writes.
  absl::Status CopyDatabaseOut(const std::string& name,
                               const std::string& destination) const;

  // A launcher prefix running a program in the tmpfs's mount namespace.
  std::vector<std::string> Enter() const;

 private:
  SmallFilesystem() = default;

  std::string mount_point_;
  pid_t holder_ = -1;
};

}  // namespace tasks::reliability

#endif  // TASKS_TESTS_RELIABILITY_SMALL_FILESYSTEM_H_
