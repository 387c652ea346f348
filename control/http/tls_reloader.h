// Re-reads a TLS certificate and key (a Kubernetes Secret that cert-manager
// renews in place) and hands a new server context over when they changed
// and are valid; a broken pair is logged and the current one kept.
// poll() reads files: call it from a housekeeping thread, never from a
// listener's thread.
#pragma once

#include <functional>
#include <memory>

#include "boost/asio/ssl/context.hpp"
#include "common/config/schema.h"
#include "control/http/tls_files.h"

namespace llmgate::control::http {

class TlsReloader {
 public:
  using Install = std::function<void(std::shared_ptr<boost::asio::ssl::context>)>;

  // `current` is the PEM the server started with.
  TlsReloader(config::TlsFiles files, PemFiles current, Install install);

  // True when a new certificate was installed.
  bool poll();

 private:
  const config::TlsFiles files_;
  PemFiles current_;
  Install install_;
};

}  // namespace llmgate::control::http
