#include "proxy/api/sse_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace llmgate::proxy::api {
namespace {

struct Seen {
  SseEvent::Kind kind;
  std::string raw;
  std::string data;
};

std::vector<Seen> feedAll(SseParser& parser, const std::vector<std::string>& pieces) {
  std::vector<Seen> seen;
  for (const auto& piece : pieces) {
    EXPECT_TRUE(parser.feed(piece, [&](const SseEvent& e) {
      seen.push_back({e.kind, std::string(e.raw), std::string(e.data)});
    }));
  }
  return seen;
}

TEST(SseParserTest, ClassifiesCommentsDataAndDone) {
  SseParser parser;
  auto seen = feedAll(parser, {": keep-alive\n\ndata: {\"a\":1}\n\ndata: [DONE]\n\n"});
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].kind, SseEvent::Kind::kComment);
  EXPECT_EQ(seen[0].raw, ": keep-alive\n\n");
  EXPECT_EQ(seen[1].kind, SseEvent::Kind::kData);
  EXPECT_EQ(seen[1].data, "{\"a\":1}");
  EXPECT_EQ(seen[1].raw, "data: {\"a\":1}\n\n");
  EXPECT_EQ(seen[2].kind, SseEvent::Kind::kDone);
}

TEST(SseParserTest, EventsSplitAcrossReadsAtEveryByte) {
  const std::string stream =
      "data: {\"x\":\"y\"}\r\n\r\n: ping\n\ndata:no-space\n\ndata: [DONE]\n\n";
  for (std::size_t cut = 1; cut < stream.size(); ++cut) {
    SseParser parser;
    auto seen = feedAll(parser, {stream.substr(0, cut), stream.substr(cut)});
    ASSERT_EQ(seen.size(), 4u) << "cut at " << cut;
    EXPECT_EQ(seen[0].data, "{\"x\":\"y\"}");
    EXPECT_EQ(seen[0].raw, "data: {\"x\":\"y\"}\r\n\r\n");
    EXPECT_EQ(seen[1].kind, SseEvent::Kind::kComment);
    EXPECT_EQ(seen[2].data, "no-space");
    EXPECT_EQ(seen[3].kind, SseEvent::Kind::kDone);
    EXPECT_EQ(parser.pendingBytes(), 0u);
  }
}

TEST(SseParserTest, MultiLineDataIsJoinedAndEventNamesKept) {
  SseParser parser;
  std::string name;
  std::string data;
  parser.feed("event: error\ndata: line1\ndata: line2\n\n", [&](const SseEvent& e) {
    name = std::string(e.event_name);
    data = std::string(e.data);
  });
  EXPECT_EQ(name, "error");
  EXPECT_EQ(data, "line1\nline2");
}

TEST(SseParserTest, IncompleteEventStaysPending) {
  SseParser parser;
  auto seen = feedAll(parser, {"data: {\"partial\":"});
  EXPECT_TRUE(seen.empty());
  EXPECT_GT(parser.pendingBytes(), 0u);
}

TEST(SseParserTest, OversizedEventIsRefused) {
  SseParser parser(16);
  EXPECT_FALSE(parser.feed(std::string(64, 'a'), [](const SseEvent&) {}));
}

}  // namespace
}  // namespace llmgate::proxy::api
