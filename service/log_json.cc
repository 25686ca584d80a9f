#include "service/log_json.h"

#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/utf8.h"
#include "service/log_time.h"

namespace tasks::service {

void AppendJsonString(absl::string_view text, std::string* out) {
  out->push_back('"');
  while (!text.empty()) {
    const char c = text[0];
    uint32_t code;
    const size_t length = DecodeUtf8(text, &code);
    if (length == 0) {
      out->append("\\ufffd");
      text.remove_prefix(1);
      continue;
    }
    if (length > 1) {
      out->append(text.data(), length);
    } else if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '\r') {
      out->append("\\r");
    } else if (c == '\t') {
      out->append("\\t");
    } else if (static_cast<uint8_t>(c) < 0x20 || c == '\x7f') {
      absl::StrAppendFormat(out, "\\u%04x", static_cast<uint8_t>(c));
    } else {
      out->push_back(c);
    }
    text.remove_prefix(length);
  }
  out->push_back('"');
}

std::string JsonLogLine(absl::Time time, absl::string_view level,
                        absl::string_view message,
                        absl::Span<const LogField> fields) {
  std::string line = "{\"time\":\"";
  AppendLogTime(time, &line);  // nothing in it to escape
  line.push_back('"');
  line.append(",\"level\":");
  AppendJsonString(level, &line);
  line.append(",\"message\":");
  AppendJsonString(message, &line);
  for (const LogField& field : fields) {
    line.push_back(',');
    AppendJsonString(field.key, &line);
    line.push_back(':');
    if (!field.is_number) {
      AppendJsonString(field.text, &line);
    } else if (std::isfinite(field.number)) {
      absl::StrAppendFormat(&line, "%.15g", field.number);
    } else {
      line.append("null");
    }
  }
  line.append("}\n");
  return line;
}

}  // namespace tasks::service
