#ifndef TASKS_SERVICE_COMMAND_LINE_H_
#define TASKS_SERVICE_COMMAND_LINE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tasks::service {

// What the command line asked for, once its flags are set.
enum class CommandLineAction { kRun, kHelp, kVersion };

// ParseFlags()
//
// Sets the Abseil flags (ABSL_FLAG) named on the command line: `--name=value`,
// `--name value`, and for booleans `--name` / `--noname`; `--help` asks for
// FlagsHelp() and `--version` for the version. Abseil's flag sources are
// honoured, as absl::ParseCommandLine does:
//   --flagfile=a,b     each file's lines are arguments, taken where the flag
//                      stands (one flag a line; blank lines and lines starting
//                      with # skipped; files may name further files);
//   --fromenv=x,y      flag x from the environment variable FLAGS_x, ...;
//   --tryfromenv=x,y   the same, skipping variables that are not set.
// A relative --flagfile path is relative to `working_directory` when that is
// non-empty (see ResolveUserPath). Abseil's other built-in flags (--undefok,
// --helpshort, --only_check_args, ...) are refused rather than ignored.
//
// Unlike absl::ParseCommandLine, which exits with status 1, it returns
// INVALID_ARGUMENT naming the argument (an unknown flag, a bad value, a
// missing value, a positional argument, an unreadable flagfile, a missing
// --fromenv variable), so the program can report it and exit with the usual
// usage-error status 2.
//
// Example:
//   absl::StatusOr<CommandLineAction> action = ParseFlags(argc, argv, "");
//   if (!action.ok()) { std::cerr << action.status().message(); return 2; }
absl::StatusOr<CommandLineAction> ParseFlags(
    int argc, char* argv[], absl::string_view working_directory = "");

// "Usage: <program> [flags]" and every flag defined in a file under
// `flags_directory` (such as "service/"), with its help and default.
std::string FlagsHelp(absl::string_view program,
                      absl::string_view flags_directory);

}  // namespace tasks::service

#endif  // TASKS_SERVICE_COMMAND_LINE_H_
