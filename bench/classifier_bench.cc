// Task classifier and token estimator cost per request (issue 5: the
// classifier must stay well under 50 µs for a 4 KB prompt).
#include <benchmark/benchmark.h>

#include <string>

#include "boost/json/object.hpp"
#include "proxy/routing/task_classifier.h"
#include "proxy/routing/token_estimator.h"

namespace {

using llmgate::proxy::routing::classify;

boost::json::object chatBody(const std::string& system, const std::string& user) {
  boost::json::object b;
  b["model"] = "auto";
  boost::json::array messages;
  messages.push_back(boost::json::object{{"role", "system"}, {"content", system}});
  messages.push_back(boost::json::object{{"role", "user"}, {"content", user}});
  b["messages"] = std::move(messages);
  return b;
}

std::string fill(std::string_view head, std::string_view unit, std::size_t bytes) {
  std::string s(head);
  while (s.size() + unit.size() <= bytes) s.append(unit);
  return s;
}

const boost::json::object& englishBody() {
  static const auto b = chatBody(
      "You are a helpful assistant for the finance team.",
      fill("Summarize the following report in five bullet points:\n\n",
           "Revenue for the quarter rose 12% year over year, driven by enterprise renewals, "
           "while operating expenses grew more slowly than planned. ",
           4096));
  return b;
}

const boost::json::object& chineseBody() {
  static const auto b = chatBody("你是一个乐于助人的助手。",
                                 fill("请总结下面这篇文章的主要内容：\n\n",
                                      "近年来新能源汽车在中国市场快速发展，价格竞争加剧。", 4096));
  return b;
}

const boost::json::object& codeBody() {
  static const auto b = chatBody(
      "You are a senior C++ engineer.",
      fill("Why does this crash?\n```cpp\n",
           "for (std::size_t i = 0; i <= v.size(); ++i) { total += v[i] * weights.at(i); }\n",
           4090) +
          "```");
  return b;
}

void BM_ClassifyEnglish4K(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(classify(englishBody()));
}
BENCHMARK(BM_ClassifyEnglish4K);

void BM_ClassifyChinese4K(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(classify(chineseBody()));
}
BENCHMARK(BM_ClassifyChinese4K);

void BM_ClassifyCode4K(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(classify(codeBody()));
}
BENCHMARK(BM_ClassifyCode4K);

void BM_ClassifyWithExplanation4K(benchmark::State& state) {
  llmgate::proxy::routing::Explanation why;
  for (auto _ : state) benchmark::DoNotOptimize(classify(englishBody(), &why));
}
BENCHMARK(BM_ClassifyWithExplanation4K);

void BM_EstimateTokensChinese4K(benchmark::State& state) {
  llmgate::proxy::routing::TokenEstimator est;
  for (auto _ : state) benchmark::DoNotOptimize(est.estimate("deepseek-v3", chineseBody()));
}
BENCHMARK(BM_EstimateTokensChinese4K);

}  // namespace

BENCHMARK_MAIN();
