#include "common/config/units.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace llmgate::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

std::string message(const absl::Status& status) { return std::string(status.message()); }

TEST(ParseDurationTest, AcceptsEveryUnit) {
  EXPECT_EQ(*parseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*parseDuration("3s"), seconds(3));
  EXPECT_EQ(*parseDuration("5m"), minutes(5));
  EXPECT_EQ(*parseDuration("1h"), hours(1));
  EXPECT_EQ(*parseDuration("2d"), hours(48));
}

TEST(ParseDurationTest, AcceptsFractionsThatAreWholeMilliseconds) {
  EXPECT_EQ(*parseDuration("1.5s"), milliseconds(1500));
  EXPECT_EQ(*parseDuration("0.25s"), milliseconds(250));
  EXPECT_EQ(*parseDuration("1.500s"), milliseconds(1500));
  EXPECT_EQ(*parseDuration("0.5h"), minutes(30));
}

TEST(ParseDurationTest, AcceptsCompoundDurations) {
  EXPECT_EQ(*parseDuration("1h30m"), minutes(90));
  EXPECT_EQ(*parseDuration("1m30s"), seconds(90));
  EXPECT_EQ(*parseDuration("2s500ms"), milliseconds(2500));
}

TEST(ParseDurationTest, ZeroNeedsNoUnit) {
  EXPECT_EQ(*parseDuration("0"), milliseconds(0));
  EXPECT_EQ(*parseDuration("0s"), milliseconds(0));
  EXPECT_EQ(*parseDuration("0ms"), milliseconds(0));
}

TEST(ParseDurationTest, RejectsMissingOrUnknownUnits) {
  EXPECT_THAT(message(parseDuration("5").status()), ::testing::HasSubstr("a unit is required"));
  EXPECT_THAT(message(parseDuration("100us").status()),
              ::testing::HasSubstr("unknown unit \"us\""));
  EXPECT_THAT(message(parseDuration("3sec").status()),
              ::testing::HasSubstr("unknown unit \"sec\""));
  EXPECT_THAT(message(parseDuration("3S").status()), ::testing::HasSubstr("unknown unit \"S\""));
  EXPECT_FALSE(parseDuration("100ns").ok());
}

TEST(ParseDurationTest, SpacesAreNamedInTheMessage) {
  EXPECT_THAT(message(parseDuration("3 s").status()),
              ::testing::HasSubstr("write durations without spaces"));
  EXPECT_THAT(message(parseSize("4 MiB").status()),
              ::testing::HasSubstr("write sizes without spaces"));
}

TEST(ParseDurationTest, RejectsNegativesAndGarbage) {
  EXPECT_THAT(message(parseDuration("-1s").status()), ::testing::HasSubstr("negative"));
  for (const char* bad : {"", " 3s", "3s ", "3 s", "+3s", "s", "ms", "1.s", ".5s", "1..5s", "abc",
                          "3s!", "1e3ms", "0x10s", "3,5s", "1h-5m"}) {
    EXPECT_FALSE(parseDuration(bad).ok()) << '"' << bad << '"';
  }
}

TEST(ParseDurationTest, RejectsSubMillisecondFractions) {
  EXPECT_THAT(message(parseDuration("0.5ms").status()),
              ::testing::HasSubstr("not a whole number of milliseconds"));
  EXPECT_FALSE(parseDuration("1.0001s").ok());
}

TEST(ParseDurationTest, RejectsOverflow) {
  EXPECT_FALSE(parseDuration("99999999999999999999999s").ok());
  EXPECT_FALSE(parseDuration("18446744073709551615h").ok());
  EXPECT_FALSE(parseDuration("87601h").ok());
  EXPECT_EQ(*parseDuration("87600h"), hours(87600));
  // The cap keeps every duration addable to a nanosecond clock.
  EXPECT_LT(std::chrono::duration_cast<std::chrono::nanoseconds>(*parseDuration("87600h")).count(),
            INT64_MAX / 2);
}

TEST(ParseSizeTest, BareNumbersAreBytes) {
  EXPECT_EQ(*parseSize("0"), 0u);
  EXPECT_EQ(*parseSize("512"), 512u);
  EXPECT_EQ(*parseSize("512B"), 512u);
}

TEST(ParseSizeTest, BinaryUnits) {
  EXPECT_EQ(*parseSize("64KiB"), 64u * 1024);
  EXPECT_EQ(*parseSize("4MiB"), 4u << 20);
  EXPECT_EQ(*parseSize("1GiB"), 1ull << 30);
  EXPECT_EQ(*parseSize("2TiB"), 2ull << 40);
  EXPECT_EQ(*parseSize("256Mi"), 256ull << 20);  // Kubernetes spelling
  EXPECT_EQ(*parseSize("1.5KiB"), 1536u);
}

TEST(ParseSizeTest, DecimalUnits) {
  EXPECT_EQ(*parseSize("1KB"), 1000u);
  EXPECT_EQ(*parseSize("10MB"), 10'000'000u);
  EXPECT_EQ(*parseSize("2GB"), 2'000'000'000u);
  EXPECT_EQ(*parseSize("1.5MB"), 1'500'000u);
  EXPECT_EQ(*parseSize("10mb"), 10'000'000u);
}

TEST(ParseSizeTest, RejectsGarbage) {
  for (const char* bad : {"", "-1", "-1KiB", "KiB", "12 KiB", " 12", "12KiB ", "1.KiB", "12XB",
                          "12KiBs", "0x10", "1e3", "+5", "1,024"}) {
    EXPECT_FALSE(parseSize(bad).ok()) << '"' << bad << '"';
  }
  EXPECT_THAT(message(parseSize("12XB").status()), ::testing::HasSubstr("unknown unit \"XB\""));
  EXPECT_THAT(message(parseSize("0.3KiB").status()),
              ::testing::HasSubstr("not a whole number of bytes"));
}

TEST(ParseSizeTest, RejectsOverflow) {
  EXPECT_EQ(*parseSize("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(parseSize("18446744073709551616").ok());
  EXPECT_FALSE(parseSize("16777216TiB").ok());  // 2^64
  EXPECT_EQ(*parseSize("16777215TiB"), 16777215ull << 40);
}

TEST(FormatTest, DurationsUseTheLargestExactUnit) {
  EXPECT_EQ(formatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(formatDuration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(formatDuration(seconds(3)), "3s");
  EXPECT_EQ(formatDuration(minutes(5)), "5m");
  EXPECT_EQ(formatDuration(hours(1)), "1h");
  EXPECT_EQ(formatDuration(hours(48)), "48h");
  EXPECT_EQ(formatDuration(milliseconds(0)), "0s");
}

TEST(FormatTest, DurationsRoundTrip) {
  for (const char* text : {"250ms", "3s", "5m", "1h", "90s", "1500ms", "36h"}) {
    EXPECT_EQ(formatDuration(*parseDuration(text)), text);
  }
}

TEST(FormatTest, Sizes) {
  EXPECT_EQ(formatSize(4u << 20), "4MiB");
  EXPECT_EQ(formatSize(64u * 1024), "64KiB");
  EXPECT_EQ(formatSize(1000), "1000");
  EXPECT_EQ(formatSize(0), "0");
  EXPECT_EQ(*parseSize(formatSize(256ull << 20)), 256ull << 20);
}

}  // namespace
}  // namespace llmgate::config
