#ifndef TASKS_STORAGE_POSTGRES_SQLSTATE_H_
#define TASKS_STORAGE_POSTGRES_SQLSTATE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "storage/engine/db_error.h"

namespace tasks::storage {

// Moves the CONTEXT, QUERY and LINE lines PostgreSQL may add after an
// error's first line (they name the server's functions and statements) from
// `error.message` to the front of `error.context`, which only INTERNAL
// errors show (and the server logs).
void MoveStatementLines(DbError& error);

// What a PostgreSQL error means, from its SQLSTATE and its message (which
// names the constraint), for a statement that ran on a live connection.
// MoveStatementLines applies.
DbError ClassifySqlState(absl::string_view sqlstate, std::string message);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_POSTGRES_SQLSTATE_H_
