#include "storage/sql/statement_params.h"

#include <stdexcept>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

namespace tasks::storage {
namespace {

ParamRef Int64(const long long& value, soci::indicator* indicator = nullptr) {
  return {ParamRef::Type::kInt64, &value, indicator};
}

ParamRef Text(const std::string& value, soci::indicator* indicator = nullptr) {
  return {ParamRef::Type::kText, &value, indicator};
}

}  // namespace

void FilterParamValues::Set(const std::vector<filter::SqlParam>& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    integers[i] = params[i].integer;
    reals[i] = params[i].real;
    texts[i] = params[i].text;
  }
}

std::optional<FilterParamSlot> FilterParamFor(const std::string& name) {
  constexpr absl::string_view kPrefix = "filter_";
  if (!absl::StartsWith(name, kPrefix) || name.size() < kPrefix.size() + 2) {
    return std::nullopt;
  }
  FilterParamSlot slot;
  slot.type = name[kPrefix.size()];
  if ((slot.type != 'i' && slot.type != 'r' && slot.type != 't') ||
      !absl::SimpleAtoi(absl::string_view(name).substr(kPrefix.size() + 1),
                        &slot.index) ||
      slot.index < 0 || slot.index >= filter::kMaxFilterParams) {
    return std::nullopt;
  }
  return slot;
}

ParamRef ParamFor(StatementParams& p, const std::string& name,
                  const schema::Table* table) {
  if (table != nullptr) {
    const int column = schema::ColumnIndex(*table, name);
    if (column >= 0 && (*table)[column].use != schema::kOutputOnly) {
      schema::ColumnValue& value = p.columns[column];
      ParamRef ref = (*table)[column].kind == schema::ValueKind::kText
                         ? Text(value.text, &p.column_indicators[column])
                         : Int64(value.number, &p.column_indicators[column]);
      ref.column = column;
      return ref;
    }
  }
  if (name == "id") return Int64(p.id);
  if (name == "now") return Int64(p.now);
  if (name == "revision") return Int64(p.revision);
  if (name == "request_id") return Text(p.request_id, &p.request_id_indicator);
  if (name == "idempotency_scope") return Text(p.idempotency_scope);
  if (name == "request_fingerprint") {
    return Text(p.request_fingerprint, &p.request_fingerprint_indicator);
  }
  if (name == "sent_fingerprint") return Text(p.sent_fingerprint);
  if (name == "after_id") return Int64(p.after_id);
  if (name == "after_number") return Int64(p.after_number);
  if (name == "after_text") return Text(p.after_text);
  if (name == "limit") return Int64(p.limit);
  if (name == "allowed_ids") return Text(p.allowed_ids);
  if (name == "meta_key") return Text(p.meta_key);
  if (name == "sender") return Text(p.sender);
  if (name == "meta_value") return Text(p.meta_value);
  throw std::logic_error("no statement parameter named :" + name);
}

bool IsNull(const StatementParams& params, const ParamRef& ref) {
  if (ref.column >= 0) return params.columns[ref.column].null;
  return ref.indicator != nullptr && *ref.indicator == soci::i_null;
}

}  // namespace tasks::storage
