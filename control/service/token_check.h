// Bearer-token checks for gRPC calls: the admin token (Admin service) and the
// node token (RouteDiscovery, Telemetry). Constant-time: both sides are
// hashed with SHA-256 and compared with CRYPTO_memcmp, so neither the
// token's length nor its content leaks through timing. The token is never
// logged.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace llmgate::control::service {

class TokenChecker {
 public:
  // Without a token every check fails (a server without a configured admin
  // token refuses every Admin call rather than allowing all).
  explicit TokenChecker(std::optional<std::string> token);

  bool configured() const { return configured_; }
  // `authorization` is the metadata value, "Bearer <token>" (scheme case-insensitive).
  bool check(std::string_view authorization) const;

 private:
  bool configured_ = false;
  std::array<unsigned char, 32> digest_{};
};

}  // namespace llmgate::control::service
