#include "proxy/server/endpoint.h"

#include <charconv>
#include <string>

#include "common/text/str_cat.h"

namespace llmgate::proxy::server {

absl::StatusOr<boost::asio::ip::tcp::endpoint> parseListenAddress(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(strCat("expected HOST:PORT, got \"", text, "\""));
  }
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return absl::InvalidArgumentError(strCat("bad port in \"", text, "\""));
  }
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code addr_ec;
  const auto address = boost::asio::ip::make_address(std::string(host), addr_ec);
  if (addr_ec) {
    return absl::InvalidArgumentError(strCat("expected an IP address in \"", text, "\""));
  }
  return boost::asio::ip::tcp::endpoint(address, static_cast<unsigned short>(port));
}

}  // namespace llmgate::proxy::server
