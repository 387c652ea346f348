// What fakellm saw: request counts per path and the last requests in full, so
// tests can check what llmgate sent upstream (GET /_fakellm/stats).
#pragma once

#include <array>
#include <atomic>
#include <boost/beast/http/fields.hpp>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace llmgate::fakellm {

class Stats {
 public:
  static constexpr size_t kLastRequests = 50;
  // Longer bodies are recorded as a note with their size.
  static constexpr size_t kMaxRecordedBody = 1 << 20;

  void recordConnection() { connections_.fetch_add(1, std::memory_order_relaxed); }

  // Records one provider request (control requests under /_fakellm/ are not).
  void recordRequest(std::string_view method, std::string_view target,
                     const boost::beast::http::fields& headers, std::string_view body);

  // {"requests","connections_accepted","by_path","last_requests":[oldest … newest]}.
  // Each recorded request: {"method","path","headers":{lower-case name: value},
  // "body": <JSON value, or the raw text when it is not JSON>}.
  std::string toJson() const;

  void reset();

 private:
  struct Recorded {
    std::string method;
    std::string path;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    size_t body_size = 0;
  };

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::atomic<uint64_t> connections_{0};
  mutable std::mutex mu_;
  uint64_t requests_ = 0;
  std::unordered_map<std::string, uint64_t, StringHash, std::equal_to<>> by_path_;
  std::array<Recorded, kLastRequests> ring_;  // slots keep their capacity between requests
  size_t next_ = 0;                           // slot the next request goes to
  size_t count_ = 0;                          // slots in use
};

}  // namespace llmgate::fakellm
