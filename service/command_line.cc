#include "service/command_line.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "service/database_path.h"
#include "service/read_file.h"

namespace tasks::service {
namespace {

// Flagfiles naming flagfiles: deeper than this is taken for a loop.
constexpr int kMaxFlagfileDepth = 8;

// What an error shows of an argument it could not use: the characters of a
// flag name up to the first other one. The rest may hold a secret: a
// flagfile line "--db postgresql://tasks:PASSWORD@db/tasks", with a space
// where '=' belongs, is one unknown flag, and the message goes to the log.
std::string Shown(absl::string_view arg) {
  size_t end = 0;
  while (end < arg.size() &&
         (absl::ascii_isalnum(static_cast<unsigned char>(arg[end])) ||
          arg[end] == '_' || arg[end] == '-')) {
    ++end;
  }
  if (end == arg.size()) return std::string(arg);
  return absl::StrCat(arg.substr(0, end), "... (the rest not shown)");
}

absl::Status SetFlag(absl::CommandLineFlag& flag, absl::string_view value) {
  std::string error;
  if (!flag.ParseFrom(value, &error)) {
    return absl::InvalidArgumentError(error);  // Names flag and value.
  }
  return absl::OkStatus();
}

// One command line (or flagfile) after another, setting flags as it goes.
class FlagParser {
 public:
  explicit FlagParser(absl::string_view working_directory)
      : working_directory_(working_directory) {}

  // Parses `args` (without the program name). An action other than kRun
  // ends the parse at once.
  absl::StatusOr<CommandLineAction> Parse(const std::vector<std::string>& args,
                                          int depth) {
    for (size_t i = 0; i < args.size(); ++i) {
      absl::string_view arg = args[i];
      if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) {
        return absl::InvalidArgumentError(
            absl::StrCat("unexpected argument \"", Shown(arg),
                         "\"; flags look like --name=value"));
      }
      if (arg == "help" || arg == "helpfull") return CommandLineAction::kHelp;
      if (arg == "version") return CommandLineAction::kVersion;

      absl::string_view name = arg;
      std::optional<absl::string_view> value;
      if (const size_t equals = arg.find('='); equals != arg.npos) {
        name = arg.substr(0, equals);
        value = arg.substr(equals + 1);
      }
      if (name == "flagfile" || name == "fromenv" || name == "tryfromenv") {
        if (!value.has_value()) {
          if (i + 1 == args.size()) {
            return absl::InvalidArgumentError(
                absl::StrCat("flag --", name, " needs a value"));
          }
          value = args[++i];
        }
        absl::StatusOr<CommandLineAction> action =
            name == "flagfile" ? ParseFlagfiles(*value, depth)
                               : SetFromEnvironment(*value, name == "fromenv");
        if (!action.ok() || *action != CommandLineAction::kRun) return action;
        continue;
      }
      if (absl::Status status = SetOne(name, value, args, i); !status.ok()) {
        return status;
      }
    }
    return CommandLineAction::kRun;
  }

 private:
  // `--name[=value]`, taking its value from args[i + 1] when it needs one.
  absl::Status SetOne(absl::string_view name,
                      std::optional<absl::string_view> value,
                      const std::vector<std::string>& args, size_t& i) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && !value.has_value() && absl::StartsWith(name, "no")) {
      // --noname turns a boolean off.
      flag = absl::FindCommandLineFlag(name.substr(2));
      if (flag == nullptr || !flag->IsOfType<bool>()) flag = nullptr;
      value = "false";
    } else if (flag != nullptr && !value.has_value()) {
      if (flag->IsOfType<bool>()) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " needs a value"));
      }
    }
    if (flag == nullptr || flag->IsRetired()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", Shown(name)));
    }
    if (IsAbseilBuiltIn(*flag)) {
      // Setting it would do nothing: only absl::ParseCommandLine reads them.
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", name, " is not supported"));
    }
    return SetFlag(*flag, *value);
  }

  static bool IsAbseilBuiltIn(const absl::CommandLineFlag& flag) {
    return absl::StrContains(flag.Filename(), "absl/flags/");
  }

  absl::StatusOr<CommandLineAction> ParseFlagfiles(absl::string_view paths,
                                                   int depth) {
    if (depth >= kMaxFlagfileDepth) {
      return absl::InvalidArgumentError(
          absl::StrCat("--flagfile nested more than ", kMaxFlagfileDepth,
                       " deep (does a file name itself?)"));
    }
    for (absl::string_view path : absl::StrSplit(paths, ',')) {
      absl::StatusOr<std::string> text =
          ReadFile(ResolveUserPath(path, working_directory_));
      if (!text.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--flagfile: ", text.status().message()));
      }
      std::vector<std::string> args;
      for (absl::string_view line : absl::StrSplit(*text, '\n')) {
        line = absl::StripAsciiWhitespace(line);
        if (!line.empty() && !absl::StartsWith(line, "#")) {
          args.emplace_back(line);
        }
      }
      absl::StatusOr<CommandLineAction> action = Parse(args, depth + 1);
      if (!action.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "in --flagfile \"", path, "\": ", action.status().message()));
      }
      if (*action != CommandLineAction::kRun) return action;
    }
    return CommandLineAction::kRun;
  }

  // --fromenv (`required`) or --tryfromenv.
  static absl::StatusOr<CommandLineAction> SetFromEnvironment(
      absl::string_view names, bool required) {
    for (absl::string_view name : absl::StrSplit(names, ',')) {
      absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
      if (flag == nullptr || flag->IsRetired() || IsAbseilBuiltIn(*flag)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", required ? "" : "try",
                         "fromenv: unknown flag --", Shown(name)));
      }
      const std::string variable = absl::StrCat("FLAGS_", name);
      const char* value = std::getenv(variable.c_str());
      if (value == nullptr) {
        if (!required) continue;
        return absl::InvalidArgumentError(absl::StrCat(
            "--fromenv: the environment variable ", variable, " is not set"));
      }
      if (absl::Status status = SetFlag(*flag, value); !status.ok()) {
        return status;
      }
    }
    return CommandLineAction::kRun;
  }

  const std::string working_directory_;
};

}  // namespace

absl::StatusOr<CommandLineAction> ParseFlags(
    int argc, char* argv[], absl::string_view working_directory) {
  return FlagParser(working_directory)
      .Parse(std::vector<std::string>(argv + std::min(argc, 1), argv + argc),
             /*depth=*/0);
}

std::string FlagsHelp(absl::string_view program,
                      absl::string_view flags_directory) {
  std::vector<absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (absl::StrContains(flag->Filename(), flags_directory)) {
      flags.push_back(flag);
    }
  }
  std::sort(flags.begin(), flags.end(),
            [](const auto* a, const auto* b) { return a->Name() < b->Name(); });
  std::string help = absl::StrCat("Usage: ", program, " [flags]\n\nFlags:\n");
  for (const absl::CommandLineFlag* flag : flags) {
    absl::StrAppend(&help, "  --", flag->Name(), "  ", flag->Help(),
                    "\n      default: \"", flag->DefaultValue(), "\"\n");
  }
  absl::StrAppend(
      &help,
      "\nAlso: --flagfile=<files> (flags from files, one a line), "
      "--fromenv=<names> / --tryfromenv=<names> (flags from FLAGS_<name> "
      "environment variables), --version, --help.\n");
  return help;
}

}  // namespace tasks::service
