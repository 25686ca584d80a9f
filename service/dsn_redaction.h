#ifndef TASKS_SERVICE_DSN_REDACTION_H_
#define TASKS_SERVICE_DSN_REDACTION_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace tasks::service {

// A password inside a database connection string (--db).
struct DsnPassword {
  // Where the password's text is: [begin, end) in the string, with the
  // quotes of a quoted keyword value.
  size_t begin = 0;
  size_t end = 0;
  // The password libpq reads from it: percent-decoded in a URL, unquoted and
  // unescaped in a keyword string.
  std::string value;
};

// FindDsnPasswords()
//
// The passwords in `dsn`, in order of position, none overlapping:
//   - a libpq URL (postgresql:// or postgres://): the one in the user info,
//     "postgresql://user:PASSWORD@host/db", and any "password=" or
//     "sslpassword=" query parameter;
//   - a libpq keyword string (one with a '='): every "password = value" and
//     "sslpassword = value", value plain or 'single quoted' with backslash
//     escapes;
//   - in both, every other occurrence of a value that libpq's own parser
//     (PQconninfoParse) reads for an option it keeps secret, when at least 4
//     characters long;
//   - anything else (a SQLite path, ":memory:"): none.
// The secret keywords are libpq's (those it shows as "*"). It errs towards
// finding too much: in user info everything up to the last '@' before the
// first '/' (or, with no '@' there, before the first '?') counts, and in a
// keyword string libpq cannot parse, everything after the first "password".
std::vector<DsnPassword> FindDsnPasswords(absl::string_view dsn);

// RedactDsn()
//
// `dsn` with each password replaced by "***", fit for logs:
//   "postgresql://tasks:s3cret@db/tasks"   -> "postgresql://tasks:***@db/tasks"
//   "host=db password='s 3' dbname=tasks"  -> "host=db password=***
//   dbname=tasks" "tasks.db"                             -> "tasks.db"
std::string RedactDsn(absl::string_view dsn);

// MaskDsnPasswordsInPlace()
//
// Overwrites each password's characters in `dsn` (a NUL-terminated string
// such as an argv entry, whose memory `ps` shows) with '*', keeping its
// length.
void MaskDsnPasswordsInPlace(char* dsn);

}  // namespace tasks::service

#endif  // TASKS_SERVICE_DSN_REDACTION_H_
