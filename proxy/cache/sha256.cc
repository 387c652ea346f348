#include "proxy/cache/sha256.h"

#include <openssl/evp.h>

#include <memory>

namespace llmgate::proxy::cache {
namespace {

const EVP_MD* sha256Md() {
  static const EVP_MD* md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}

struct CtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

Sha256Digest sha256(std::string_view data) {
  thread_local std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx(EVP_MD_CTX_new());
  Sha256Digest out{};
  unsigned int len = 0;
  if (ctx == nullptr || EVP_DigestInit_ex(ctx.get(), sha256Md(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1) {
    // Only on allocation failure inside OpenSSL; fall back to the one-shot API.
    EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  }
  return out;
}

void appendHex(std::string& out, const Sha256Digest& digest, std::size_t bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < bytes && i < digest.size(); ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
}

}  // namespace llmgate::proxy::cache
