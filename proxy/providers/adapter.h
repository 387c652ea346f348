// What differs between providers: the path, the auth headers, the body
// tweaks each one needs, and how its errors read. One adapter per wire
// dialect; the request path asks `adapterFor(kind)`.
#pragma once

#include <string>
#include <string_view>

#include "boost/beast/http/fields.hpp"
#include "boost/json/object.hpp"
#include "common/config/schema.h"
#include "proxy/api/api_error.h"

namespace llmgate::proxy::providers {

class ProviderAdapter {
 public:
  virtual ~ProviderAdapter() = default;

  // False for dialects this build cannot translate yet (requests get a clear 502).
  virtual bool supported() const { return true; }
  // Request target for chat completions / embeddings, from base_path.
  virtual std::string chatPath(const config::ProviderConfig& provider) const = 0;
  virtual std::string embeddingsPath(const config::ProviderConfig& provider) const = 0;
  // Rewrites a client's chat body for this provider (model name, unsupported fields).
  virtual void prepareChatBody(boost::json::object& body,
                               const config::ModelConfig& model) const = 0;
  // Adds the provider's credentials (and any version header).
  virtual void addAuth(boost::beast::http::fields& headers,
                       const config::ProviderConfig& provider) const = 0;
  // Maps a non-2xx answer to the client-facing error (docs/ERRORS.md).
  virtual api::ApiError mapError(int status, const boost::beast::http::fields& headers,
                                 std::string_view body,
                                 const config::ProviderConfig& provider) const = 0;
};

const ProviderAdapter& adapterFor(config::ProviderKind kind);

}  // namespace llmgate::proxy::providers
