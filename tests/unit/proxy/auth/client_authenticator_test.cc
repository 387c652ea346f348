#include "proxy/auth/client_authenticator.h"

#include <gtest/gtest.h>

namespace llmgate::proxy::auth {
namespace {

std::vector<config::ClientConfig> clients() {
  return {{{"TEAM_A_KEY", "sk-team-a"}, "team-a", {}}, {{"TEAM_B_KEY", "sk-team-b"}, "team-b", {}}};
}

TEST(ClientAuthenticatorTest, NoClientsMeansDefaultTenant) {
  ClientAuthenticator auth({});
  EXPECT_FALSE(auth.enabled());
  EXPECT_EQ(auth.tenantFor(""), "default");
  EXPECT_EQ(auth.tenantFor("Bearer anything"), "default");
}

TEST(ClientAuthenticatorTest, KnownKeysGiveTheirTenant) {
  ClientAuthenticator auth(clients());
  EXPECT_EQ(auth.tenantFor("Bearer sk-team-a"), "team-a");
  EXPECT_EQ(auth.tenantFor("Bearer sk-team-b"), "team-b");
}

TEST(ClientAuthenticatorTest, BadKeysAreRefused) {
  ClientAuthenticator auth(clients());
  for (std::string header :
       {std::string(""), std::string("Bearer "), std::string("Bearer sk-team-c"),
        std::string("Basic sk-team-a"), std::string("sk-team-a"), std::string("Bearer sk-team-a\n"),
        std::string("Bearer sk-team-a x"), "Bearer " + std::string(100 * 1024, 'k')}) {
    EXPECT_FALSE(auth.tenantFor(header).has_value()) << header.substr(0, 40);
  }
}

}  // namespace
}  // namespace llmgate::proxy::auth
