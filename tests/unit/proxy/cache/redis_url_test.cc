#include "gtest/gtest.h"
#include "proxy/cache/redis_cache.h"

namespace llmgate::proxy::cache {
namespace {

TEST(RedisUrl, Parses) {
  auto ep = parseRedisUrl("redis://cache.internal:6380/2");
  ASSERT_TRUE(ep.ok()) << ep.status();
  EXPECT_EQ(ep->host, "cache.internal");
  EXPECT_EQ(ep->port, 6380);
  EXPECT_EQ(ep->db, 2);
  ep = parseRedisUrl("redis://127.0.0.1");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->port, 6379);
  EXPECT_EQ(ep->db, 0);
  ep = parseRedisUrl("redis://[::1]:7000/");
  ASSERT_TRUE(ep.ok()) << ep.status();
  EXPECT_EQ(ep->host, "::1");
}

TEST(RedisUrl, Refuses) {
  for (const char* bad :
       {"", "cache:6379", "http://h:1", "rediss://h:1", "redis://:pw@h:1", "redis://user:pw@h",
        "redis://h:1/x", "redis://h:1/-1", "redis://h:0", "redis://h:1/0?x=1", "redis://"}) {
    EXPECT_FALSE(parseRedisUrl(bad).ok()) << bad;
  }
}

TEST(RedisUrl, OptionsFromConfig) {
  config::RedisConfig c;
  c.url = "redis://h:1/3";
  c.timeout = std::chrono::milliseconds(40);
  c.password = config::Secret{.env = "REDIS_PW", .value = "s3cret"};
  auto o = RedisCacheOptions::fromConfig(c);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->password, "s3cret");
  EXPECT_EQ(o->timeout, std::chrono::milliseconds(40));
  EXPECT_EQ(o->endpoint.db, 3);
}

}  // namespace
}  // namespace llmgate::proxy::cache
