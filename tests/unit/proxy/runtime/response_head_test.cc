// ResponseHead must produce the bytes Beast's serializer would: same status
// line, same field order, same replacement and keep-alive rules.
#include "proxy/runtime/response_head.h"

#include <sstream>

#include "boost/beast/http/empty_body.hpp"
#include "boost/beast/http/message.hpp"
#include "boost/beast/http/write.hpp"
#include "gtest/gtest.h"

namespace llmgate::proxy::runtime {
namespace {

namespace http = boost::beast::http;
using Fields = std::vector<std::pair<std::string, std::string>>;

std::string beastHead(unsigned status, unsigned version, const Fields& fields, bool keep_alive,
                      const Fields& after) {
  http::response<http::empty_body> res{static_cast<http::status>(status), version};
  for (const auto& [name, value] : fields) res.set(name, value);
  res.keep_alive(keep_alive);
  for (const auto& [name, value] : after) res.set(name, value);
  std::ostringstream out;
  out << res.base();
  return out.str();
}

std::string ourHead(unsigned status, unsigned version, const Fields& fields, bool keep_alive,
                    const Fields& after) {
  ResponseHead head(status, version);
  for (const auto& [name, value] : fields) head.set(name, value);
  head.keepAlive(keep_alive);
  for (const auto& [name, value] : after) head.set(name, value);
  return head.render();
}

TEST(ResponseHeadTest, MatchesBeastForTheFieldsAResponseCarries) {
  const Fields fields = {{"Server", "llmgate"},
                         {"x-request-id", "req_1"},
                         {"x-llmgate-provider", "none"},
                         {"x-llmgate-model", "none"},
                         {"x-llmgate-cache", "miss"},
                         {"x-llmgate-provider", "fake"},
                         {"x-llmgate-model", "gpt-4o-mini"},
                         {"x-llmgate-route", "gpt-4o-mini"},
                         {"X-LLMGATE-PROVIDER", "other"},  // replaced whatever its case
                         {"retry-after", " 3 "},           // trimmed
                         {"x-llmgate-attempts", "2"}};
  const Fields after = {{"Content-Type", "application/json"}, {"Content-Length", "678"}};
  for (unsigned status : {200u, 400u, 404u, 429u, 503u, 504u, 599u}) {
    for (unsigned version : {10u, 11u}) {
      for (bool keep_alive : {true, false}) {
        SCOPED_TRACE(testing::Message() << status << " " << version << " " << keep_alive);
        EXPECT_EQ(ourHead(status, version, fields, keep_alive, after),
                  beastHead(status, version, fields, keep_alive, after));
      }
    }
  }
}

TEST(ResponseHeadTest, RendersTheExpectedBytes) {
  ResponseHead head(200, 11);
  head.set("Server", "llmgate");
  head.set("x-a", "1");
  head.set("Server", "again");
  head.keepAlive(false);
  EXPECT_EQ(head.render(),
            "HTTP/1.1 200 OK\r\nx-a: 1\r\nServer: again\r\nConnection: close\r\n\r\n");
  ResponseHead old(404, 10);
  old.keepAlive(true);
  EXPECT_EQ(old.render(), "HTTP/1.0 404 Not Found\r\nConnection: keep-alive\r\n\r\n");
}

}  // namespace
}  // namespace llmgate::proxy::runtime
