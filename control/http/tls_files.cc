#include "control/http/tls_files.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "boost/asio/buffer.hpp"
#include "common/text/str_cat.h"

namespace llmgate::control::http {
namespace {

namespace asio = boost::asio;
constexpr std::size_t kMaxPemBytes = 1 << 20;

absl::StatusOr<std::string> readFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    return absl::NotFoundError(strCat(what, " ", path, ": ", std::strerror(error)));
  }
  std::ostringstream content;
  content << in.rdbuf();
  std::string text = content.str();
  if (text.empty()) return absl::InvalidArgumentError(strCat(what, " ", path, ": empty"));
  if (text.size() > kMaxPemBytes) {
    return absl::InvalidArgumentError(strCat(what, " ", path, ": larger than 1 MiB"));
  }
  return text;
}

}  // namespace

absl::StatusOr<PemFiles> readPemFiles(const config::TlsFiles& files) {
  PemFiles pem;
  if (!files.ca_file.empty()) {
    absl::StatusOr<std::string> ca = readFile(files.ca_file, "ca_file");
    if (!ca.ok()) return ca.status();
    pem.ca = std::move(*ca);
  }
  absl::StatusOr<std::string> cert = readFile(files.cert_file, "cert_file");
  if (!cert.ok()) return cert.status();
  pem.cert_chain = std::move(*cert);
  absl::StatusOr<std::string> key = readFile(files.key_file, "key_file");
  if (!key.ok()) return key.status();
  pem.private_key = std::move(*key);
  return pem;
}

absl::StatusOr<std::shared_ptr<asio::ssl::context>> makeServerTlsContext(const PemFiles& pem) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain(asio::buffer(pem.cert_chain), ec);
  if (ec)
    return absl::InvalidArgumentError(
        strCat("cert_file: not a PEM certificate chain (", ec.message(), ")"));
  ctx->use_private_key(asio::buffer(pem.private_key), asio::ssl::context::pem, ec);
  // OpenSSL reports a key of another certificate as "key values mismatch".
  if (ec && ec.message().find("mismatch") != std::string::npos) {
    return absl::InvalidArgumentError("key_file: does not match cert_file");
  }
  if (ec)
    return absl::InvalidArgumentError(
        strCat("key_file: not a PEM private key (", ec.message(), ")"));
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return absl::InvalidArgumentError("key_file: does not match cert_file");
  }
  return ctx;
}

}  // namespace llmgate::control::http
