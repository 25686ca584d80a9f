#ifndef TASKS_STORAGE_FILTER_FILTER_SQL_H_
#define TASKS_STORAGE_FILTER_FILTER_SQL_H_

#include <string>
#include <vector>

#include "storage/filter/filter.h"
#include "storage/filter/sql_dialect.h"

namespace tasks::storage::filter {

// Every literal of a filter, and every metadata path, is one parameter: at
// most two per comparison.
inline constexpr int kMaxFilterParams = 2 * kMaxFilterTerms;

// One bound value of a filter's SQL. Parameter n is named ":filter_<t><n>",
// where <t> is its type: 'i' integer, 'r' real (double), 't' text.
struct SqlParam {
  char type = 'i';
  long long integer = 0;
  double real = 0;
  std::string text;
};

// A filter as a condition on the tasks table.
struct SqlFilter {
  std::string condition;  // "" when the filter matches every task
  std::vector<SqlParam> params;
};

// ToSql()
//
// `filter` (from ParseFilter) as SQL for `dialect`, with every value a
// parameter (never spliced into the text), so the text depends only on the
// filter's shape. Every comparison under a NOT is true or false, never
// NULL, so NOT negates exactly (elsewhere NULL acts as false): the result
// matches what Matches() says on every task.
// Comparisons on id, project_id, priority, create_time and title are plain
// column conditions that the tasks indexes serve.
//
// Example:
//   SqlFilter sql = ToSql(*ParseFilter("priority >= HIGH"),
//                         SqlDialect::kSqlite);
//   // sql.condition == "priority >= :filter_i0", sql.params[0].integer == 3
SqlFilter ToSql(const Node& filter, SqlDialect dialect);

}  // namespace tasks::storage::filter

#endif  // TASKS_STORAGE_FILTER_FILTER_SQL_H_
