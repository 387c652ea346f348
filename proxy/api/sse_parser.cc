#include "proxy/api/sse_parser.h"

namespace llmgate::proxy::api {
namespace {

std::string_view stripCr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::string_view fieldValue(std::string_view line, std::size_t colon) {
  std::string_view value = line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return value;
}

}  // namespace

bool SseParser::nextEvent(SseEvent& event) {
  // Find the end of the event: a line that is empty once its \r is stripped.
  std::size_t pos = std::max(scan_from_, consumed_);
  std::size_t event_end = std::string::npos;
  std::size_t line_start = pos;
  // Re-find the start of the line that contains `pos`.
  if (pos > consumed_) {
    const std::size_t prev_nl = buffer_.rfind('\n', pos - 1);
    line_start = (prev_nl == std::string::npos || prev_nl < consumed_) ? consumed_ : prev_nl + 1;
  }
  while (true) {
    const std::size_t nl = buffer_.find('\n', line_start);
    if (nl == std::string::npos) {
      scan_from_ = line_start;
      return false;
    }
    const std::string_view line =
        stripCr(std::string_view(buffer_).substr(line_start, nl - line_start));
    if (line.empty()) {
      if (line_start == consumed_) {
        // A stray blank line between events: skip it.
        consumed_ = nl + 1;
        line_start = consumed_;
        continue;
      }
      event_end = nl + 1;
      break;
    }
    line_start = nl + 1;
  }

  const std::string_view raw = std::string_view(buffer_).substr(consumed_, event_end - consumed_);
  data_.clear();
  bool has_data = false;
  bool has_comment = false;
  std::string_view event_name;
  std::size_t start = 0;
  while (start < raw.size()) {
    std::size_t nl = raw.find('\n', start);
    if (nl == std::string_view::npos) nl = raw.size();
    const std::string_view line = stripCr(raw.substr(start, nl - start));
    start = nl + 1;
    if (line.empty()) continue;
    if (line.front() == ':') {
      has_comment = true;
      continue;
    }
    const std::size_t colon = line.find(':');
    const std::string_view field = colon == std::string_view::npos ? line : line.substr(0, colon);
    const std::string_view value =
        colon == std::string_view::npos ? std::string_view() : fieldValue(line, colon);
    if (field == "data") {
      if (has_data) data_ += '\n';
      data_.append(value);
      has_data = true;
    } else if (field == "event") {
      event_name = value;
    }
  }
  event.raw = raw;
  event.event_name = event_name;
  event.data = data_;
  if (has_data) {
    event.kind = data_ == "[DONE]" ? SseEvent::Kind::kDone : SseEvent::Kind::kData;
  } else {
    event.kind = has_comment ? SseEvent::Kind::kComment : SseEvent::Kind::kOther;
  }
  consumed_ = event_end;
  scan_from_ = consumed_;
  return true;
}

void SseParser::compact() {
  if (consumed_ == 0) return;
  buffer_.erase(0, consumed_);
  scan_from_ = scan_from_ >= consumed_ ? scan_from_ - consumed_ : 0;
  consumed_ = 0;
}

}  // namespace llmgate::proxy::api
