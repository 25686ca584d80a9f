#ifndef TASKS_STORAGE_POSTGRES_POSTGRES_PIPELINE_H_
#define TASKS_STORAGE_POSTGRES_POSTGRES_PIPELINE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "soci/soci.h"
#include "storage/schema/column.h"
#include "storage/sql/statement_params.h"

namespace tasks::storage {

// One statement of a pipeline: SQL with named parameters (see
// StatementParams) yielding at most one task row (schema::kTaskTable).
struct PipelinedStatement {
  const std::string* sql = nullptr;
  StatementParams params;
};

// Runs `statements` in order on the PostgreSQL `session`, inside the
// transaction open on it, through libpq's pipeline mode: a few dozen
// statements per round trip instead of one. Each distinct SQL text is
// prepared once per session; `prepared` (owned by the session's
// Connection) maps the texts prepared so far to their statement names.
// With `prepared` null, each statement is sent with its text (unnamed, as a
// transaction pooler needs; see Dialect::keeps_prepared_statements).
// Returns each statement's row, or nullopt where it returned none.
//
// When a statement fails, the ones after it do not run: sets `*failed` to
// its index and throws soci::postgresql_soci_error with its SQLSTATE and
// message, as SOCI would have for it alone; the transaction is then
// aborted. Leaves the session out of pipeline mode unless the connection is
// lost.
std::vector<std::optional<schema::Row>> RunTaskPipeline(
    soci::session& session, const std::vector<PipelinedStatement>& statements,
    absl::flat_hash_map<std::string, std::string>* prepared, int* failed);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_POSTGRES_POSTGRES_PIPELINE_H_
