#ifndef TASKS_STORAGE_POSTGRES_LIBPQ_VALUES_H_
#define TASKS_STORAGE_POSTGRES_LIBPQ_VALUES_H_

#include <libpq-fe.h>

#include <string>
#include <vector>

#include "storage/schema/column.h"
#include "storage/sql/statement_params.h"

namespace tasks::storage {

// The first row of `result`, whose columns are `table`'s in order, from
// libpq's text format.
schema::Row RowOf(const PGresult* result, const schema::Table& table);

// LibpqParams
//
// The fields of `params` that a statement's named parameters (`names`, in
// the order PositionalSql gives them) refer to, in libpq's text format, for
// PQsendQueryParams and PQsendQueryPrepared.
class LibpqParams {
 public:
  LibpqParams(const StatementParams& params,
              const std::vector<std::string>& names);

  LibpqParams(const LibpqParams&) = delete;
  LibpqParams& operator=(const LibpqParams&) = delete;

  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }

 private:
  std::vector<std::string> texts_;   // reserved: c_str() pointers stay valid
  std::vector<const char*> values_;  // nullptr for NULL
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_POSTGRES_LIBPQ_VALUES_H_
