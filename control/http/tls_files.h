// PEM material for llmgate-control's TLS endpoints, read once at start-up:
// the webhook's server certificate and the gRPC server's mTLS identity.
// Errors name the file, never its content.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "boost/asio/ssl/context.hpp"
#include "common/config/schema.h"

namespace llmgate::control::http {

struct PemFiles {
  std::string ca;  // "" when not configured
  std::string cert_chain;
  std::string private_key;
};

// Reads the configured files (ca_file only when set).
absl::StatusOr<PemFiles> readPemFiles(const config::TlsFiles& files);

// A TLS >= 1.2 server context with this certificate chain and key; the key
// must match the certificate.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> makeServerTlsContext(
    const PemFiles& pem);

}  // namespace llmgate::control::http
