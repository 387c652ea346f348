// paced_load: an open-loop HTTP/1.1 load generator for latency at a fixed
// request rate (issue 4's "p99 at 1,000 req/s"), lighter than wrk + Lua.
//
// Requests are scheduled on a Poisson (or uniform) timeline and handed out
// round-robin over keep-alive connections. Each request's latency is timed
// from the moment its bytes are written until its whole response is read
// (what wrk reports); `sched_p99` is timed from its scheduled moment
// instead, so a server that falls behind cannot hide it (coordinated
// omission). With --spin the client polls its event loop instead of
// sleeping in epoll_wait: its own wake-up latency then stays out of the
// figures (it costs one CPU for the run; pin it away from the server).
//
//   paced_load --port P [--host 127.0.0.1] [--path /v1/chat/completions]
//              --body FILE [--header "Name: value"]... [--rate 1000]
//              [--seconds 10] [--connections 10] [--uniform] [--spin]
//
// Prints one line:
//   PACED requests=N errors=E non2xx=X rps=R p50_us=.. p90_us=.. p99_us=..
//   p999_us=.. max_us=.. sched_p99_us=..
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/v1/chat/completions";
  std::string body_file;
  std::vector<std::string> headers;
  double rate = 1000;
  double seconds = 10;
  int connections = 10;
  bool uniform = false;
  bool spin = false;
};

struct Results {
  std::vector<double> service_us;
  std::vector<double> scheduled_us;
  long errors = 0;
  long non2xx = 0;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "paced_load: %s (see the comment at the top of bench/paced_load.cc)\n", why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + arg).c_str());
      return argv[++i];
    };
    if (arg == "--host")
      o.host = value();
    else if (arg == "--port")
      o.port = std::atoi(value().c_str());
    else if (arg == "--path")
      o.path = value();
    else if (arg == "--body")
      o.body_file = value();
    else if (arg == "--header")
      o.headers.push_back(value());
    else if (arg == "--rate")
      o.rate = std::atof(value().c_str());
    else if (arg == "--seconds")
      o.seconds = std::atof(value().c_str());
    else if (arg == "--connections")
      o.connections = std::atoi(value().c_str());
    else if (arg == "--uniform")
      o.uniform = true;
    else if (arg == "--spin")
      o.spin = true;
    else
      usage(("unknown argument " + arg).c_str());
  }
  if (o.port <= 0 || o.body_file.empty() || o.rate <= 0 || o.seconds <= 0 || o.connections <= 0) {
    usage("--port and --body are required; rate, seconds and connections must be positive");
  }
  return o;
}

std::string rawRequest(const Options& o) {
  std::ifstream in(o.body_file, std::ios::binary);
  if (!in) usage(("cannot read " + o.body_file).c_str());
  std::stringstream body;
  body << in.rdbuf();
  std::string out = "POST " + o.path + " HTTP/1.1\r\nHost: " + o.host + ":" +
                    std::to_string(o.port) + "\r\nContent-Type: application/json\r\n";
  for (const std::string& h : o.headers) out += h + "\r\n";
  out += "Content-Length: " + std::to_string(body.str().size()) + "\r\n\r\n" + body.str();
  return out;
}

// The schedule: request i is due at offsets[i] after the start.
std::vector<Clock::duration> schedule(const Options& o) {
  const auto count = static_cast<std::size_t>(o.rate * o.seconds);
  std::vector<Clock::duration> out;
  out.reserve(count);
  std::mt19937_64 rng(7);
  std::exponential_distribution<double> gap(o.rate);
  double t = 0;
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(t)));
    t += o.uniform ? 1.0 / o.rate : gap(rng);
  }
  return out;
}

asio::awaitable<void> connection(const Options& o, const std::string& request,
                                 const std::vector<Clock::duration>& due, std::size_t first,
                                 Clock::time_point start, Results& results, int& running) {
  auto executor = co_await asio::this_coro::executor;
  tcp::socket socket(executor);
  auto [connect_ec] = co_await socket.async_connect(
      tcp::endpoint(asio::ip::make_address(o.host), static_cast<unsigned short>(o.port)), kTuple);
  if (connect_ec) {
    std::fprintf(stderr, "paced_load: connect: %s\n", connect_ec.message().c_str());
    ++results.errors;
    --running;
    co_return;
  }
  socket.set_option(tcp::no_delay(true));
  boost::beast::flat_buffer buffer;
  asio::steady_timer timer(executor);
  for (std::size_t i = first; i < due.size(); i += static_cast<std::size_t>(o.connections)) {
    const Clock::time_point at = start + due[i];
    if (o.spin) {
      while (Clock::now() < at) co_await asio::post(executor, asio::use_awaitable);  // yield
    } else if (Clock::now() < at) {
      timer.expires_at(at);
      co_await timer.async_wait(kTuple);
    }
    const Clock::time_point sent = Clock::now();
    auto [write_ec, written] = co_await asio::async_write(socket, asio::buffer(request), kTuple);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    boost::system::error_code read_ec;
    if (!write_ec)
      std::tie(read_ec, std::ignore) = co_await http::async_read(socket, buffer, parser, kTuple);
    const Clock::time_point done = Clock::now();
    if (write_ec || read_ec) {
      ++results.errors;
      break;
    }
    if (parser.get().result_int() / 100 != 2) ++results.non2xx;
    results.service_us.push_back(std::chrono::duration<double, std::micro>(done - sent).count());
    results.scheduled_us.push_back(std::chrono::duration<double, std::micro>(done - at).count());
    if (!parser.keep_alive()) break;
  }
  --running;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(std::min<double>(v.size() - 1, p * v.size()));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const std::string request = rawRequest(o);
  const std::vector<Clock::duration> due = schedule(o);
  asio::io_context ioc(1);
  Results results;
  int running = o.connections;
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(100);
  for (int c = 0; c < o.connections; ++c) {
    asio::co_spawn(
        ioc, connection(o, request, due, static_cast<std::size_t>(c), start, results, running),
        asio::detached);
  }
  if (o.spin) {
    while (running > 0) ioc.poll();
  } else {
    ioc.run();
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const auto n = static_cast<long>(results.service_us.size());
  std::printf(
      "PACED requests=%ld errors=%ld non2xx=%ld rps=%.0f p50_us=%.0f p90_us=%.0f p99_us=%.0f "
      "p999_us=%.0f max_us=%.0f sched_p99_us=%.0f\n",
      n, results.errors, results.non2xx, n / elapsed, percentile(results.service_us, 0.50),
      percentile(results.service_us, 0.90), percentile(results.service_us, 0.99),
      percentile(results.service_us, 0.999), percentile(results.service_us, 1.0),
      percentile(results.scheduled_us, 0.99));
  return results.errors == 0 ? 0 : 1;
}
