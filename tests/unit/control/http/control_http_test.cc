// llmgate-control's HTTP side: the admin and webhook routes, /metrics from
// the Controller's counters, and HttpServer's limits and timeouts over a real
// loopback socket (plain HTTP; HTTPS is covered by
// integration.test_control_webhook).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/write.hpp"
#include "control/http/control_metrics.h"
#include "control/http/decision_counter.h"
#include "control/http/endpoints.h"
#include "control/http/http_server.h"
#include "control/service/controller.h"

namespace llmgate::control::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using tcp = asio::ip::tcp;

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(LLMGATE_ADMISSION_DIR) + "/" + name, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Request makeRequest(bhttp::verb verb, std::string target, std::string body = "") {
  Request req{verb, target, 11};
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

class ControlHttpTest : public ::testing::Test {
 protected:
  ControlHttpTest()
      : controller_(config::ControlConfig{}, time::RealClock::instance()),
        metrics_(controller_, decisions_, webhook_stats_) {
    controller_.watch(&decisions_, {});
    EXPECT_TRUE(controller_.start().ok());
  }
  ~ControlHttpTest() override { controller_.unwatch(&decisions_); }

  service::Controller controller_;
  DecisionCounter decisions_;
  webhook::WebhookStats webhook_stats_;
  ControlMetrics metrics_;
  Readiness readiness_;
};

TEST_F(ControlHttpTest, MetricsReadTheCountersAtScrapeTime) {
  controller_.counters().acks += 3;
  controller_.counters().nacks += 1;
  service::v1::Decision decision;
  decision.set_kind(service::v1::Decision::KIND_SHIFT_STARTED);
  decisions_.push(decision);
  decisions_.push(decision);
  webhook_stats_.count(webhook::AdmissionOutcome::kInjected);
  webhook_stats_.count(webhook::AdmissionOutcome::kMalformed);
  webhook_stats_.count(webhook::AdmissionOutcome::kMalformed);
  const std::string text = metrics_.text();
  EXPECT_THAT(text, HasSubstr("\nllmgate_control_acks_total 3\n"));
  EXPECT_THAT(text, HasSubstr("\nllmgate_control_nacks_total 1\n"));
  EXPECT_THAT(text, HasSubstr("\nllmgate_control_connected_proxies 0\n"));
  EXPECT_THAT(text, HasSubstr("\nllmgate_control_route_version 1\n"));
  EXPECT_THAT(text, HasSubstr("llmgate_control_decisions_total{kind=\"shift_started\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("llmgate_control_decisions_total{kind=\"thresholds_changed\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("llmgate_control_webhook_admissions_total{result=\"injected\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("llmgate_control_webhook_admissions_total{result=\"malformed\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE llmgate_control_acks_total counter"));
  EXPECT_THAT(text, HasSubstr("# TYPE llmgate_control_connected_proxies gauge"));
}

TEST_F(ControlHttpTest, AdminRoutes) {
  Handler admin = adminHandler(readiness_, metrics_);
  EXPECT_EQ(admin(makeRequest(bhttp::verb::get, "/healthz")).result(), bhttp::status::ok);
  Response starting = admin(makeRequest(bhttp::verb::get, "/readyz"));
  EXPECT_EQ(starting.result(), bhttp::status::service_unavailable);
  EXPECT_EQ(starting.body(), "starting\n");
  readiness_.ready = true;
  EXPECT_EQ(admin(makeRequest(bhttp::verb::get, "/readyz?verbose")).result(), bhttp::status::ok);
  readiness_.draining = true;
  Response draining = admin(makeRequest(bhttp::verb::get, "/readyz"));
  EXPECT_EQ(draining.result(), bhttp::status::service_unavailable);
  EXPECT_EQ(draining.body(), "draining\n");
  Response metrics = admin(makeRequest(bhttp::verb::get, "/metrics"));
  EXPECT_EQ(metrics.result(), bhttp::status::ok);
  EXPECT_THAT(std::string(metrics[bhttp::field::content_type]), HasSubstr("version=0.0.4"));
  EXPECT_EQ(admin(makeRequest(bhttp::verb::post, "/metrics")).result(),
            bhttp::status::method_not_allowed);
  EXPECT_EQ(admin(makeRequest(bhttp::verb::get, "/mutate")).result(), bhttp::status::not_found);
}

TEST_F(ControlHttpTest, WebhookRoutesCountEveryAnswer) {
  config::InjectionConfig injection;
  Handler hook = webhookHandler(injection, webhook_stats_);
  Response wrong_method = hook(makeRequest(bhttp::verb::get, "/mutate"));
  EXPECT_EQ(wrong_method.result(), bhttp::status::method_not_allowed);
  EXPECT_EQ(wrong_method[bhttp::field::allow], "POST");
  EXPECT_EQ(hook(makeRequest(bhttp::verb::post, "/validate", "{}")).result(),
            bhttp::status::not_found);
  EXPECT_EQ(webhook_stats_.refused(), 2u);
  Response injected =
      hook(makeRequest(bhttp::verb::post, "/mutate?timeout=10s", fixture("annotated_pod.json")));
  EXPECT_EQ(injected.result(), bhttp::status::ok);
  EXPECT_EQ(injected[bhttp::field::content_type], "application/json");
  EXPECT_THAT(injected.body(), HasSubstr("\"patchType\":\"JSONPatch\""));
  Response malformed = hook(makeRequest(bhttp::verb::post, "/mutate", "not json"));
  EXPECT_EQ(malformed.result(), bhttp::status::ok);
  EXPECT_THAT(malformed.body(), HasSubstr("\"allowed\":true"));
  hook(makeRequest(bhttp::verb::post, "/mutate", fixture("plain_pod.json")));
  hook(makeRequest(bhttp::verb::post, "/mutate", fixture("already_injected_pod.json")));
  EXPECT_EQ(webhook_stats_.get(webhook::AdmissionOutcome::kInjected), 1u);
  EXPECT_EQ(webhook_stats_.get(webhook::AdmissionOutcome::kMalformed), 1u);
  EXPECT_EQ(webhook_stats_.get(webhook::AdmissionOutcome::kSkipped), 1u);
  EXPECT_EQ(webhook_stats_.get(webhook::AdmissionOutcome::kAlreadyInjected), 1u);
}

// Raw exchanges with a running HttpServer.
class HttpServerTest : public ::testing::Test {
 protected:
  void startServer(HttpServerOptions options) {
    server_ = std::make_unique<HttpServer>(std::move(options), [](const Request& req) {
      Response res{bhttp::status::ok, 11};
      res.body() = "echo " + std::to_string(req.body().size());
      return res;
    });
    ASSERT_TRUE(server_->listen("127.0.0.1:0").ok());
    server_->start();
  }

  // Sends `bytes`, reads until the peer closes or `timeout`; returns what came.
  std::string exchange(const std::string& bytes, std::chrono::seconds timeout) {
    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(server_->localEndpoint());
    asio::write(socket, asio::buffer(bytes));
    struct timeval tv {
      static_cast<time_t>(timeout.count()), 0
    };
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char buf[4096];
    while (true) {
      // ::recv, not read_some: asio would poll past SO_RCVTIMEO.
      const ssize_t n = ::recv(socket.native_handle(), buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, ServesKeepAliveRequestsAndClosesOnConnectionClose) {
  startServer({.name = "t"});
  const std::string two =
      "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
      "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const std::string out = exchange(two, std::chrono::seconds(5));
  EXPECT_THAT(out, StartsWith("HTTP/1.1 200 OK"));
  EXPECT_THAT(out, HasSubstr("echo 3"));
  EXPECT_THAT(out, HasSubstr("echo 0"));
  EXPECT_THAT(out, HasSubstr("Server: t"));
}

TEST_F(HttpServerTest, BodyOverTheLimitIs413) {
  startServer({.name = "t", .body_limit = 100});
  const std::string out = exchange("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n",
                                   std::chrono::seconds(5));
  EXPECT_THAT(out, StartsWith("HTTP/1.1 413"));
}

TEST_F(HttpServerTest, GarbageIs400AndAnIncompleteRequestTimesOut) {
  startServer({.name = "t", .read_timeout = std::chrono::seconds(1)});
  EXPECT_THAT(exchange("NOT HTTP AT ALL\r\n\r\n", std::chrono::seconds(5)),
              StartsWith("HTTP/1.1 400"));
  // Half a request: the server closes after read_timeout without answering.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(exchange("POST /a HTTP/1.1\r\nHost: x\r\n", std::chrono::seconds(5)), "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

// A request being handled when drain() starts still gets its whole answer;
// then the listening socket is closed.
TEST(HttpServerDrainTest, InFlightRequestFinishesNewConnectionsRefused) {
  std::promise<void> entered;
  std::atomic<bool> release{false};
  HttpServer server({.name = "t"}, [&](const Request&) {
    entered.set_value();
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    Response res{bhttp::status::ok, 11};
    res.body() = "finished";
    return res;
  });
  ASSERT_TRUE(server.listen("127.0.0.1:0").ok());
  server.start();
  const tcp::endpoint endpoint = server.localEndpoint();
  std::string answer;
  std::thread client([&] {
    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(endpoint);
    struct timeval tv {
      5, 0
    };  // a broken drain must fail the test, not hang it
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const std::string request = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    asio::write(socket, asio::buffer(request));
    char buf[1024];
    while (true) {
      // ::recv, not read_some: asio would poll past SO_RCVTIMEO.
      const ssize_t n = ::recv(socket.native_handle(), buf, sizeof buf, 0);
      if (n <= 0) break;
      answer.append(buf, static_cast<std::size_t>(n));
    }
  });
  entered.get_future().wait();
  std::thread drainer([&] { server.drain(std::chrono::seconds(5)); });
  // The handler holds the server's thread for 200 ms more; drain() must wait
  // for its answer to be written.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  release = true;
  drainer.join();
  client.join();
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 200 OK"));
  EXPECT_THAT(answer, HasSubstr("finished"));
  // The listening socket is closed: a new connection is refused.
  asio::io_context ioc;
  tcp::socket socket(ioc);
  boost::system::error_code ec;
  socket.connect(endpoint, ec);
  EXPECT_EQ(ec, asio::error::connection_refused);
}

TEST(ParseEndpointTest, NumericAddressesOnly) {
  tcp::endpoint endpoint;
  ASSERT_TRUE(parseEndpoint("0.0.0.0:8443", endpoint).ok());
  EXPECT_EQ(endpoint.port(), 8443);
  ASSERT_TRUE(parseEndpoint("[::1]:9902", endpoint).ok());
  EXPECT_TRUE(endpoint.address().is_v6());
  EXPECT_FALSE(parseEndpoint("localhost:9902", endpoint).ok());
  EXPECT_FALSE(parseEndpoint("127.0.0.1", endpoint).ok());
  EXPECT_FALSE(parseEndpoint("127.0.0.1:70000", endpoint).ok());
  EXPECT_FALSE(parseEndpoint("127.0.0.1:", endpoint).ok());
}

}  // namespace
}  // namespace llmgate::control::http
