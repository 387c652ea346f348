// Why an upstream exchange failed, as the retry logic will need to see it
// (STYLE.md: Pingora's ProxyError idea). Maps to the client-facing ApiError.
#pragma once

#include <string>
#include <string_view>

namespace llmgate::proxy::upstream {

enum class UpstreamErrorKind {
  kNone,
  kDnsFailed,
  kForbiddenAddress,  // resolved to a non-public address without allow_private_network
  kConnectRefused,    // refused, unreachable, reset during connect
  kConnectTimeout,
  kTlsError,
  kPoolExhausted,     // no connection slot before the deadline
  kStaleConnection,   // a reused keep-alive connection was closed before any response byte
  kFirstByteTimeout,  // no response (or, streaming, no data event) before timeouts.first_byte
  kIdleTimeout,       // stream: no data for timeouts.stream_idle
  kTotalTimeout,      // timeouts.total
  kClosed,            // connection closed or reset mid-response
  kProtocolError,     // not HTTP, bad framing, body over the limit
  kShuttingDown,      // the drain deadline passed: the exchange was cut (R65)
};

struct UpstreamError {
  UpstreamErrorKind kind = UpstreamErrorKind::kNone;
  std::string detail;  // for logs and messages; never holds secrets

  explicit operator bool() const { return kind != UpstreamErrorKind::kNone; }
};

std::string_view toString(UpstreamErrorKind kind);

}  // namespace llmgate::proxy::upstream
