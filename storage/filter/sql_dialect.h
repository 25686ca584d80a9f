#ifndef TASKS_STORAGE_FILTER_SQL_DIALECT_H_
#define TASKS_STORAGE_FILTER_SQL_DIALECT_H_

namespace tasks::storage::filter {

// The SQL a filter is written in (see filter_sql.h).
enum class SqlDialect { kSqlite, kPostgres };

}  // namespace tasks::storage::filter

#endif  // TASKS_STORAGE_FILTER_SQL_DIALECT_H_
