// SHA-256 through OpenSSL's EVP with the digest fetched once and a context per
// thread (OpenSSL 3 fetches the algorithm on every one-shot SHA256() call).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmgate::proxy::cache {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::string_view data);

// Appends the lower-case hex of the first `bytes` bytes of `digest`.
void appendHex(std::string& out, const Sha256Digest& digest, std::size_t bytes = 32);

}  // namespace llmgate::proxy::cache
