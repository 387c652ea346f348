#include "proxy/telemetry/access_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "boost/json/parse.hpp"
#include "boost/json/value.hpp"

namespace llmgate::proxy::telemetry {
namespace {

namespace json = boost::json;

// 2024-05-01T12:34:56.789Z
const time::SystemTime kAt{std::chrono::milliseconds(1714566896789)};

RequestRecord record() {
  RequestRecord r;
  r.request_id = "req_abc";
  r.tenant = "team-a";
  r.route = "auto";
  r.model = "gpt-4o-mini";
  r.provider = "fake";
  r.method = "POST";
  r.path = "/v1/chat/completions";
  r.status = 200;
  r.attempts = 2;
  r.cache = "miss";
  r.stream = true;
  r.prompt_tokens = 100;
  r.cached_prompt_tokens = 40;
  r.completion_tokens = 25;
  r.cost_usd = 0.00015;
  r.duration_s = 1.2345678;
  r.ttft_s = 0.25;
  r.routes_version = 9;
  return r;
}

json::object parseLine(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line";
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  EXPECT_FALSE(ec) << ec.message() << ": " << line;
  EXPECT_TRUE(v.is_object());
  return v.is_object() ? v.as_object() : json::object();
}

TEST(AccessLogTest, LineHasEveryFieldInOrder) {
  const std::string line = AccessLog::formatLine(record(), kAt);
  EXPECT_EQ(line,
            "{\"time\":\"2024-05-01T12:34:56.789Z\",\"request_id\":\"req_abc\","
            "\"tenant\":\"team-a\",\"route\":\"auto\",\"model\":\"gpt-4o-mini\","
            "\"provider\":\"fake\",\"method\":\"POST\",\"path\":\"/v1/chat/completions\","
            "\"status\":200,\"error_code\":\"\",\"attempts\":2,\"cache\":\"miss\","
            "\"stream\":true,\"truncated\":false,\"prompt_tokens\":100,"
            "\"cached_prompt_tokens\":40,\"completion_tokens\":25,\"cost_usd\":0.00015,"
            "\"saved_usd\":0,\"duration_ms\":1234.568,\"ttft_ms\":250.000,"
            "\"routes_version\":9}\n");
  json::object o = parseLine(line);
  EXPECT_EQ(o.size(), 22u);
  EXPECT_DOUBLE_EQ(o["cost_usd"].to_number<double>(), 0.00015);
}

TEST(AccessLogTest, NoTtftIsNullAndTinyCostStaysJson) {
  RequestRecord r = record();
  r.ttft_s.reset();
  r.cost_usd = 1.5e-9;
  r.status = 404;
  r.error_code = "model_not_found";
  json::object o = parseLine(AccessLog::formatLine(r, kAt));
  EXPECT_TRUE(o["ttft_ms"].is_null());
  EXPECT_DOUBLE_EQ(o["cost_usd"].to_number<double>(), 1.5e-9);
  EXPECT_EQ(o["status"].as_int64(), 404);
  EXPECT_EQ(o["error_code"].as_string(), "model_not_found");
}

TEST(AccessLogTest, ControlCharactersQuotesAndBadUtf8AreEscaped) {
  RequestRecord r = record();
  const std::string id = std::string("a\"b\\c\nd\re\tf\x01g\x1fh\x7fi") + "\xff" + "\xc3\xa9";
  r.request_id = id;
  const std::string tenant("t\0u", 3);
  r.tenant = tenant;
  const std::string line = AccessLog::formatLine(r, kAt);
  for (std::size_t i = 0; i + 1 < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    EXPECT_TRUE(c >= 0x20 && c != 0x7f) << "raw control byte " << int(c) << " at " << i;
  }
  EXPECT_NE(line.find(R"("request_id":"a\"b\\c\nd\re\tf\u0001g\u001fh\u007fi\ufffd)"),
            std::string::npos)
      << line;
  json::object o = parseLine(line);
  EXPECT_EQ(o["request_id"].as_string(),
            std::string("a\"b\\c\nd\re\tf\x01g\x1fh\x7fi") + "\xef\xbf\xbd\xc3\xa9");
  EXPECT_EQ(o["tenant"].as_string(), tenant);
}

// The longest line an entry can give: every field at its cap and every byte
// escaped six-fold, every number at its widest. The line is written into room
// reserved up front, so this is the case that must fit.
TEST(AccessLogTest, WidestPossibleLineIsComplete) {
  const std::string worst(AccessLog::kMaxFieldBytes, '\x01');
  RequestRecord r;
  r.request_id = worst;
  r.tenant = worst;
  r.route = worst;
  r.model = worst;
  r.provider = worst;
  r.method = worst;
  r.path = worst;
  r.error_code = worst;
  r.cache = worst;
  r.status = INT32_MAX;
  r.attempts = INT32_MAX;
  r.prompt_tokens = UINT64_MAX;
  r.cached_prompt_tokens = UINT64_MAX;
  r.completion_tokens = UINT64_MAX;
  r.routes_version = UINT64_MAX;
  r.cost_usd = -1.7976931348623157e308;
  r.saved_usd = 2.2250738585072014e-308;
  r.duration_s = 999999999.9999994;
  r.ttft_s = 999999999.9999994;
  const std::string line = AccessLog::formatLine(r, kAt);
  ASSERT_EQ(line.back(), '\n');
  json::object o = parseLine(line);
  EXPECT_EQ(o.size(), 22u);
  EXPECT_EQ(o["request_id"].as_string(), worst);
  EXPECT_EQ(o["routes_version"].as_uint64(), UINT64_MAX);
  EXPECT_DOUBLE_EQ(o["cost_usd"].to_number<double>(), -1.7976931348623157e308);
}

TEST(AccessLogTest, QueryStringIsNotLoggedAndLongFieldsAreCut) {
  RequestRecord r = record();
  r.path = "/v1/chat/completions?api_key=sk-canary-secret";
  const std::string long_id(5000, 'x');
  r.request_id = long_id;
  const std::string line = AccessLog::formatLine(r, kAt);
  EXPECT_EQ(line.find("sk-canary-secret"), std::string::npos);
  json::object o = parseLine(line);
  EXPECT_EQ(o["path"].as_string(), "/v1/chat/completions");
  EXPECT_EQ(o["request_id"].as_string().size(), AccessLog::kMaxFieldBytes);
}

TEST(AccessLogTest, WriterDrainsEverythingOnStop) {
  std::mutex mu;
  std::string written;
  AccessLog log(
      [&](std::string_view lines) {
        std::lock_guard lock(mu);
        written.append(lines);
      },
      100000);
  for (int i = 0; i < 5000; ++i) EXPECT_TRUE(log.push(record(), kAt));
  log.stop();
  EXPECT_FALSE(log.push(record(), kAt)) << "refused after stop";
  std::istringstream in(written);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    parseLine(line + "\n");
    ++n;
  }
  EXPECT_EQ(n, 5000);
  EXPECT_EQ(log.dropped(), 1u);
}

TEST(AccessLogTest, LinesOfManyThreadsAreAllWrittenEachThreadsInOrder) {
  std::mutex mu;
  std::string written;
  constexpr int kThreads = 4;
  constexpr int kLines = 3000;
  {
    AccessLog log(
        [&](std::string_view lines) {
          std::lock_guard lock(mu);
          written.append(lines);
        },
        kLines);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < kLines; ++i) {
          RequestRecord r = record();
          std::string id = "t";  // not operator+: GCC 12 warns wrongly (-Wrestrict)
          id.append(std::to_string(t)).append("-").append(std::to_string(i));
          r.request_id = id;
          EXPECT_TRUE(log.push(r, kAt));
        }
      });
    }
    for (auto& th : threads) th.join();
    log.push(record(), kAt);  // this thread gets a lane of its own
  }                           // the destructor stops: everything pushed is written
  std::array<int, kThreads> next{};
  std::istringstream in(written);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    json::object o = parseLine(line + "\n");
    ++n;
    const std::string id(o["request_id"].as_string());
    if (id[0] != 't') continue;
    const auto dash = id.find('-');
    const int t = std::stoi(id.substr(1, dash - 1));
    EXPECT_EQ(std::stoi(id.substr(dash + 1)), next[t]) << "thread " << t << " out of order";
    next[t] = std::stoi(id.substr(dash + 1)) + 1;
  }
  EXPECT_EQ(n, kThreads * kLines + 1);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next[t], kLines);
}

TEST(AccessLogTest, AFullLaneDropsAndCountsUntilTheWriterEmptiesIt) {
  std::mutex gate;
  gate.lock();  // the sink blocks until the test lets it go
  std::atomic<int> written{0};
  AccessLog log(
      [&](std::string_view lines) {
        std::lock_guard lock(gate);
        written += static_cast<int>(std::count(lines.begin(), lines.end(), '\n'));
      },
      4);
  int accepted = 0;
  // The writer drains at most once before its sink blocks: 4 lines in the
  // lane plus at most the 4 it took out.
  for (int i = 0; i < 20; ++i) accepted += log.push(record(), kAt) ? 1 : 0;
  EXPECT_GE(accepted, 4);
  EXPECT_LE(accepted, 8);
  EXPECT_EQ(log.dropped(), static_cast<std::uint64_t>(20 - accepted));
  gate.unlock();
  log.stop();
  EXPECT_EQ(written.load(), accepted);
}

TEST(AccessLogTest, OpenSettings) {
  auto off = AccessLog::open("off");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(*off, nullptr);
  auto bad = AccessLog::open("/nonexistent-dir/x/access.log");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("logging.access_log"), std::string::npos);

  char path[] = "/tmp/llmgate-access-log-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  {
    auto file = AccessLog::open(path);
    ASSERT_TRUE(file.ok()) << file.status();
    ASSERT_NE(*file, nullptr);
    (*file)->push(record(), kAt);
    (*file)->push(record(), kAt);
  }  // destructor stops and flushes
  std::ifstream in(path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    parseLine(line + "\n");
    ++n;
  }
  EXPECT_EQ(n, 2);
  std::remove(path);
}

}  // namespace
}  // namespace llmgate::proxy::telemetry
