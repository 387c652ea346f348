#include "control/http/tls_reloader.h"

#include "common/log/log.h"

namespace llmgate::control::http {

TlsReloader::TlsReloader(config::TlsFiles files, PemFiles current, Install install)
    : files_(std::move(files)), current_(std::move(current)), install_(std::move(install)) {}

bool TlsReloader::poll() {
  absl::StatusOr<PemFiles> pem = readPemFiles(files_);
  if (!pem.ok()) {
    log::warn("webhook_tls: keeping the current certificate: ",
              std::string(pem.status().message()));
    return false;
  }
  if (pem->cert_chain == current_.cert_chain && pem->private_key == current_.private_key) {
    return false;
  }
  absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> context = makeServerTlsContext(*pem);
  if (!context.ok()) {
    // A renewal writes the two files one after the other: the next poll
    // normally sees a matching pair.
    log::warn("webhook_tls: keeping the current certificate: ",
              std::string(context.status().message()));
    return false;
  }
  install_(std::move(*context));
  current_ = std::move(*pem);
  log::info("webhook_tls: new certificate from ", files_.cert_file, " installed");
  return true;
}

}  // namespace llmgate::control::http
