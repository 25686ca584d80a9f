#ifndef TASKS_STORAGE_SQL_STATEMENT_PARAMS_H_
#define TASKS_STORAGE_SQL_STATEMENT_PARAMS_H_

#include <memory>
#include <optional>
#include <string>

#include "soci/soci-backend.h"
#include "storage/filter/filter_sql.h"
#include "storage/schema/column.h"

namespace tasks::storage {

// The values of a ListTasks filter's parameters (see filter/filter_sql.h),
// by number; fixed arrays, so that bound addresses stay put.
struct FilterParamValues {
  long long integers[filter::kMaxFilterParams] = {};
  double reals[filter::kMaxFilterParams] = {};
  std::string texts[filter::kMaxFilterParams];

  // Sets the values of `params`.
  void Set(const std::vector<filter::SqlParam>& params);
};

// A filter parameter's name (":filter_<type><n>", without ':') split into
// its type ('i', 'r' or 't') and number; nullopt for any other name.
struct FilterParamSlot {
  char type;
  int index;
};
std::optional<FilterParamSlot> FilterParamFor(const std::string& name);

// The values a statement's named parameters bind to. A statement binds only
// the names its SQL uses (":id", ":title", ...; see PreparedStatement). A
// parameter named after a column the API may set (":title", ":status") is
// that column's value in `columns`, indexed by the statement's table
// (schema::kTaskTable for task rows, kProjectTable for project rows).
struct StatementParams {
  schema::Row columns;
  // SOCI's NULL indicators of `columns`, set from their `null` before each
  // execution (PreparedStatement).
  soci::indicator column_indicators[schema::kMaxColumns] = {};
  long long id = 0;
  long long now = 0;  // epoch microseconds
  long long revision = 0;
  std::string request_id;
  soci::indicator request_id_indicator = soci::i_null;
  std::string idempotency_scope;    // the scope request_id is unique in
  std::string request_fingerprint;  // a create's RequestFingerprints::row
  soci::indicator request_fingerprint_indicator = soci::i_null;
  std::string sent_fingerprint;  // its RequestFingerprints::sent
  // Keyset pagination: the last row of the previous page.
  long long after_id = 0;
  long long after_number = 0;
  std::string after_text;
  long long limit = 0;
  // A restricted list: the dialect's AllowedIdsParameter.
  std::string allowed_ids;
  // The server whose SequenceChanges run notifies.
  std::string sender;
  // Metadata filter.
  std::string meta_key;
  std::string meta_value;
  // A ListTasks filter's values; made when a statement uses one.
  std::unique_ptr<FilterParamValues> filter;
};

// One field of StatementParams, as a named parameter refers to it.
struct ParamRef {
  enum class Type { kInt64, kText };
  Type type;
  const void* value;  // long long or std::string, by `type`
  // The field's NULL indicator; nullptr when it is never NULL. For a column
  // it is column_indicators[column], valid once set from the column's
  // `null`.
  soci::indicator* indicator;
  int column = -1;  // the index in `columns`; -1 for another field
};

// The field of `params` the parameter `name` (without ':') binds to, in a
// statement on `table` (nullptr: one that sets no column). Throws
// std::logic_error for a name StatementParams has no field for.
ParamRef ParamFor(StatementParams& params, const std::string& name,
                  const schema::Table* table);

// The parameter `ref` of `params` is NULL.
bool IsNull(const StatementParams& params, const ParamRef& ref);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_SQL_STATEMENT_PARAMS_H_
