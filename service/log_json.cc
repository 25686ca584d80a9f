#include "service/log_json.h"

#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "service/log_time.h"

namespace tasks::service {
namespace {

// The length of the valid UTF-8 sequence at the start of `text`, 0 when the
// first byte does not start one (a stray continuation byte, a truncated or
// overlong sequence, a surrogate, beyond U+10FFFF).
int Utf8SequenceLength(absl::string_view text) {
  const auto byte = [&text](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t lead = byte(0);
  int length;
  uint32_t min;
  uint32_t code;
  if (lead < 0x80) return 1;
  if ((lead & 0xe0) == 0xc0) {
    length = 2, min = 0x80, code = lead & 0x1f;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3, min = 0x800, code = lead & 0x0f;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4, min = 0x10000, code = lead & 0x07;
  } else {
    return 0;
  }
  if (text.size() < static_cast<size_t>(length)) return 0;
  for (int i = 1; i < length; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
    code = (code << 6) | (byte(i) & 0x3f);
  }
  if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
    return 0;
  }
  return length;
}

}  // namespace

void AppendJsonString(absl::string_view text, std::string* out) {
  out->push_back('"');
  while (!text.empty()) {
    const char c = text[0];
    const int length = Utf8SequenceLength(text);
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
