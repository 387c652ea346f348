#include "proxy/upstream/upstream_error.h"

namespace llmgate::proxy::upstream {

std::string_view toString(UpstreamErrorKind kind) {
  switch (kind) {
    case UpstreamErrorKind::kNone:
      return "none";
    case UpstreamErrorKind::kDnsFailed:
      return "dns_failed";
    case UpstreamErrorKind::kForbiddenAddress:
      return "forbidden_address";
    case UpstreamErrorKind::kConnectRefused:
      return "connect_error";
    case UpstreamErrorKind::kConnectTimeout:
      return "connect_timeout";
    case UpstreamErrorKind::kTlsError:
      return "tls_error";
    case UpstreamErrorKind::kPoolExhausted:
      return "pool_exhausted";
    case UpstreamErrorKind::kStaleConnection:
      return "stale_connection";
    case UpstreamErrorKind::kFirstByteTimeout:
      return "first_byte_timeout";
    case UpstreamErrorKind::kIdleTimeout:
      return "idle_timeout";
    case UpstreamErrorKind::kTotalTimeout:
      return "timeout";
    case UpstreamErrorKind::kClosed:
      return "closed";
    case UpstreamErrorKind::kProtocolError:
      return "protocol_error";
    case UpstreamErrorKind::kShuttingDown:
      return "shutting_down";
  }
  return "unknown";
}

}  // namespace llmgate::proxy::upstream
