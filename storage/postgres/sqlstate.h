#ifndef TASKS_STORAGE_POSTGRES_SQLSTATE_H_
#define TASKS_STORAGE_POSTGRES_SQLSTATE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "storage/engine/db_error.h"

namespace tasks::storage {

// What a PostgreSQL error means, from its SQLSTATE and its message (which
// names the constraint), for a statement that ran on a live connection.
DbError ClassifySqlState(absl::string_view sqlstate, std::string message);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_POSTGRES_SQLSTATE_H_
