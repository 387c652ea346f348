#include "tests/fakes/fakellm/embeddings.h"

#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstring>

#include "tests/fakes/fakellm/answer.h"
#include "tests/fakes/fakellm/json_text.h"

namespace llmgate::fakellm {
namespace {

namespace json = boost::json;

void appendBase64(std::string& out, const unsigned char* data, size_t n) {
  static constexpr char kTable[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    const uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out.push_back(kTable[(v >> 18) & 63]);
    out.push_back(kTable[(v >> 12) & 63]);
    out.push_back(kTable[(v >> 6) & 63]);
    out.push_back(kTable[v & 63]);
  }
  if (i < n) {
    uint32_t v = data[i] << 16;
    if (i + 1 < n) v |= data[i + 1] << 8;
    out.push_back(kTable[(v >> 18) & 63]);
    out.push_back(kTable[(v >> 12) & 63]);
    out.push_back(i + 1 < n ? kTable[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
}

ErrorSpec badInput(std::string message, std::string param) {
  return invalidRequestError(Dialect::kOpenAi, std::move(message), std::move(param));
}

}  // namespace

std::vector<float> embeddingVector(std::string_view input, int dims) {
  std::vector<float> v(static_cast<size_t>(std::max(dims, 0)));
  uint64_t state = fnv1a(input);
  double norm = 0;
  for (float& x : v) {
    // 53 random bits to a double in [-1, 1).
    x = static_cast<float>(static_cast<double>(splitMix64(state) >> 11) * 0x1.0p-52 - 1.0);
    norm += static_cast<double>(x) * x;
  }
  if (norm > 0) {
    const double scale = 1.0 / std::sqrt(norm);
    for (float& x : v) x = static_cast<float>(x * scale);
  }
  return v;
}

EmbeddingsResult embeddingsResponse(const json::value& request, int default_dims) {
  EmbeddingsResult result;
  const auto* body = request.if_object();
  if (body == nullptr) {
    result.error = badInput("The request body must be a JSON object.", "input");
    return result;
  }
  std::vector<std::string> inputs;
  const json::value* input = body->if_contains("input");
  if (input != nullptr && input->is_string()) {
    inputs.emplace_back(input->get_string());
  } else if (input != nullptr && input->is_array() && !input->get_array().empty()) {
    const auto& arr = input->get_array();
    if (arr[0].is_number()) {
      inputs.push_back(json::serialize(*input));  // one input given as token ids
    } else {
      for (const auto& item : arr) {
        if (item.is_string()) {
          inputs.emplace_back(item.get_string());
        } else if (item.is_array()) {
          inputs.push_back(json::serialize(item));
        } else {
          result.error = badInput(
              "'$.input' is invalid. Please check the API reference: "
              "https://platform.openai.com/docs/api-reference.",
              "input");
          return result;
        }
      }
    }
  }
  if (inputs.empty()) {
    result.error = badInput(
        "'$.input' is invalid. Please check the API reference: "
        "https://platform.openai.com/docs/api-reference.",
        "input");
    return result;
  }
  int dims = default_dims;
  if (const auto* d = body->if_contains("dimensions")) {
    if (!d->is_int64() || d->get_int64() < 1 || d->get_int64() > 8192) {
      result.error =
          badInput("Invalid 'dimensions': expected an integer between 1 and 8192.", "dimensions");
      return result;
    }
    dims = static_cast<int>(d->get_int64());
  }
  bool base64 = false;
  if (const auto* f = body->if_contains("encoding_format"); f != nullptr && f->is_string()) {
    base64 = f->get_string() == "base64";
  }
  std::string_view model = "text-embedding-3-small";
  if (const auto* m = body->if_contains("model"); m != nullptr && m->is_string()) {
    model = m->get_string();
  }

  std::string& out = result.body;
  out.append(R"({"object":"list","data":[)");
  int64_t tokens = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    tokens += (countCodePoints(inputs[i]) + 3) / 4;
    const std::vector<float> v = embeddingVector(inputs[i], dims);
    if (i > 0) out.push_back(',');
    out.append(R"({"object":"embedding","index":)");
    appendInt(out, static_cast<int64_t>(i));
    out.append(R"(,"embedding":)");
    if (base64) {
      std::string raw(v.size() * sizeof(float), '\0');
      std::memcpy(raw.data(), v.data(), raw.size());  // x86-64: little-endian already
      out.push_back('"');
      appendBase64(out, reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
      out.push_back('"');
    } else {
      out.push_back('[');
      for (size_t j = 0; j < v.size(); ++j) {
        if (j > 0) out.push_back(',');
        appendFloat(out, v[j]);
      }
      out.push_back(']');
    }
    out.push_back('}');
  }
  out.append(R"(],"model":)");
  appendJsonString(out, model);
  out.append(R"(,"usage":{"prompt_tokens":)");
  appendInt(out, tokens);
  out.append(R"(,"total_tokens":)");
  appendInt(out, tokens);
  out.append("}}");
  return result;
}

std::string modelsBody(Dialect dialect, int64_t created) {
  static constexpr std::string_view kModels[] = {
      "gpt-4o-mini",
      "gpt-4o",
      "deepseek-chat",
      "deepseek-reasoner",
      "qwen-plus",
      "qwen-max",
      "mistral-small-latest",
      "mistral-large-latest",
      "claude-sonnet-4-5",
      "text-embedding-3-small",
      "fake-429",
      "fake-500",
      "fake-503",
      "fake-529",
      "fake-slow",
      "fake-length",
      "fake-cut",
      "fake-hang",
      "fake-empty",
  };
  std::string out;
  if (dialect == Dialect::kAnthropic) {
    out.append(R"({"data":[)");
    bool first = true;
    for (const auto m : kModels) {
      if (!m.starts_with("claude") && !m.starts_with("fake-")) continue;
      if (!first) out.push_back(',');
      first = false;
      out.append(R"({"type":"model","id":)");
      appendJsonString(out, m);
      out.append(R"(,"display_name":)");
      appendJsonString(out, m);
      out.append(R"(,"created_at":"2025-09-29T00:00:00Z"})");
    }
    out.append(R"(],"has_more":false,"first_id":"claude-sonnet-4-5","last_id":"fake-empty"})");
    return out;
  }
  out.append(R"({"object":"list","data":[)");
  for (size_t i = 0; i < std::size(kModels); ++i) {
    if (i > 0) out.push_back(',');
    out.append(R"({"id":)");
    appendJsonString(out, kModels[i]);
    out.append(R"(,"object":"model","created":)");
    appendInt(out, created);
    out.append(R"(,"owned_by":"fakellm"})");
  }
  out.append("]}");
  return out;
}

std::string_view deepSeekBalanceBody() {
  return R"({"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"110.00",)"
         R"("granted_balance":"10.00","topped_up_balance":"100.00"}]})";
}

std::string_view badGatewayHtml() {
  return "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
         "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
         "</body>\r\n</html>\r\n";
}

}  // namespace llmgate::fakellm
