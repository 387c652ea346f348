// Incremental Server-Sent Events framing, as the OpenAI SDK's SSEDecoder reads
// it: lines end in \n or \r\n, a blank line ends an event, lines starting
// with ':' are comments, `data:` takes at most one space after the colon.
// The parser keeps each event's raw bytes so a relay can pass them on as is.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace llmgate::proxy::api {

struct SseEvent {
  enum class Kind {
    kComment,  // only comment lines (": keep-alive")
    kData,     // has data lines; `data` holds them joined with '\n'
    kDone,     // data is exactly "[DONE]"
    kOther,    // only event:/id:/retry: fields
  };
  Kind kind = Kind::kOther;
  std::string_view raw;  // the whole event including its terminating blank line
  std::string_view data;
  std::string_view event_name;  // value of an `event:` field, if any
};

class SseParser {
 public:
  explicit SseParser(std::size_t max_event_bytes = 8u << 20) : max_event_bytes_(max_event_bytes) {}

  // Appends bytes and calls on_event(const SseEvent&) for every event they
  // complete; string_views stay valid only during the call. Returns false when
  // a single event grows past max_event_bytes (the stream is then unusable).
  template <typename OnEvent>
  bool feed(std::string_view bytes, OnEvent&& on_event) {
    buffer_.append(bytes);
    while (true) {
      SseEvent event;
      if (!nextEvent(event)) break;
      on_event(static_cast<const SseEvent&>(event));
    }
    compact();
    return buffer_.size() - consumed_ <= max_event_bytes_;
  }

  // Bytes received but not yet part of a complete event.
  std::size_t pendingBytes() const { return buffer_.size() - consumed_; }

 private:
  bool nextEvent(SseEvent& event);
  void compact();

  std::size_t max_event_bytes_;
  std::string buffer_;
  std::size_t consumed_ = 0;   // start of the first incomplete event
  std::size_t scan_from_ = 0;  // where to continue looking for the blank line
  std::string data_;           // joined data lines of the event being returned
};

}  // namespace llmgate::proxy::api
