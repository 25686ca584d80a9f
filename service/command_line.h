#ifndef TASKS_SERVICE_COMMAND_LINE_H_
#define TASKS_SERVICE_COMMAND_LINE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tasks::service {

// What the command line asked for, once its flags are set.
enum class CommandLineAction { kRun, kHelp };

// ParseFlags()
//
// Sets the Abseil flags (ABSL_FLAG) named on the command line: `--name=value`,
// `--name value`, and for booleans `--name` / `--noname`; `--help` asks for
// FlagsHelp(). Unlike absl::ParseCommandLine, which exits with status 1, it
// returns INVALID_ARGUMENT naming the argument (an unknown flag, a bad value,
// a missing value, a positional argument), so the program can report it and
// exit with the usual usage-error status 2.
//
// Example:
//   absl::StatusOr<CommandLineAction> action = ParseFlags(argc, argv);
//   if (!action.ok()) { std::cerr << action.status().message(); return 2; }
absl::StatusOr<CommandLineAction> ParseFlags(int argc, char* argv[]);

// "Usage: <program> [flags]" and every flag defined in a file under
// `flags_directory` (such as "service/"), with its help and default.
std::string FlagsHelp(absl::string_view program,
                      absl::string_view flags_directory);

}  // namespace tasks::service

#endif  // TASKS_SERVICE_COMMAND_LINE_H_
