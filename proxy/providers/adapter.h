// What differs between providers: the path, the auth headers, the body
// tweaks each one needs, and how its errors read. One adapter per wire
// dialect; the request path asks `adapterFor(kind)`.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "boost/beast/http/fields.hpp"
#include "boost/json/object.hpp"
#include "common/config/schema.h"
#include "proxy/api/api_error.h"

namespace llmgate::proxy::providers {

// Turns a provider's stream events into OpenAI chat.completion.chunk events.
// Stateful: one per streamed response.
class StreamTranslator {
 public:
  virtual ~StreamTranslator() = default;
  // `event_name` and `data` of one provider SSE event; returns the OpenAI SSE
  // bytes to emit for it (possibly none).
  virtual std::string onEvent(std::string_view event_name, std::string_view data) = 0;
  // The provider signalled the end of a complete answer (its [DONE] was emitted).
  virtual bool finished() const = 0;
  // The provider sent an error event; `errorMessage()` says what it was.
  virtual bool failed() const = 0;
  virtual std::string errorMessage() const = 0;
};

class ProviderAdapter {
 public:
  virtual ~ProviderAdapter() = default;

  // Request target for chat completions / embeddings, from base_path.
  virtual std::string chatPath(const config::ProviderConfig& provider) const = 0;
  virtual std::string embeddingsPath(const config::ProviderConfig& provider) const = 0;
  // Rewrites a client's chat body for this provider (model name, unsupported fields).
  virtual void prepareChatBody(boost::json::object& body,
                               const config::ModelConfig& model) const = 0;
  // True when prepareChatBody() only sets "model" (in place, the field being
  // present): the caller may then write the body out with that one change
  // instead of copying the whole object first.
  virtual bool onlyRenamesModel() const { return false; }
  // True when answers are not in OpenAI's format and must be translated.
  virtual bool translatesAnswers() const { return false; }
  // Rewrites a successful non-streamed answer into OpenAI's chat.completion
  // shape (identity for OpenAI-style dialects). False when it cannot.
  virtual bool translateResponse(boost::json::value& response) const { return true; }
  // A translator for streamed answers, or nullptr when the provider already
  // speaks OpenAI's SSE (events are relayed byte for byte).
  virtual std::unique_ptr<StreamTranslator> newStreamTranslator(bool include_usage) const {
    return nullptr;
  }
  // Appends the provider's credentials (and any version header) to a
  // request head, as field lines (upstream::appendField).
  virtual void appendAuth(std::string& head, const config::ProviderConfig& provider) const = 0;
  // Maps a non-2xx answer to the client-facing error (docs/ERRORS.md).
  virtual api::ApiError mapError(int status, const boost::beast::http::fields& headers,
                                 std::string_view body,
                                 const config::ProviderConfig& provider) const = 0;
};

const ProviderAdapter& adapterFor(config::ProviderKind kind);

}  // namespace llmgate::proxy::providers
