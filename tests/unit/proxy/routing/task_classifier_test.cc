#include "proxy/routing/task_classifier.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "boost/json/parse.hpp"

namespace llmgate::proxy::routing {
namespace {

boost::json::object body(std::string_view json) { return boost::json::parse(json).as_object(); }

boost::json::object userSays(std::string_view text) {
  boost::json::object b;
  b["model"] = "auto";
  boost::json::array messages;
  messages.push_back(boost::json::object{{"role", "user"}, {"content", text}});
  b["messages"] = std::move(messages);
  return b;
}

TEST(TaskClassifierTest, RulesCompile) { EXPECT_EQ(internal::brokenTaskRules(), 0); }

TEST(TaskClassifierTest, NamesRoundTrip) {
  for (auto t : {TaskClass::kCode, TaskClass::kStructured, TaskClass::kSummarize,
                 TaskClass::kReasoning, TaskClass::kCreative, TaskClass::kChat}) {
    EXPECT_EQ(parseTaskClass(toString(t)), t);
  }
  EXPECT_FALSE(parseTaskClass("Code"));
  EXPECT_FALSE(parseTaskClass(""));
}

TEST(TaskClassifierTest, EmptyOrOddBodiesAreChat) {
  EXPECT_EQ(classify(body("{}")), TaskClass::kChat);
  EXPECT_EQ(classify(body(R"({"messages": 3})")), TaskClass::kChat);
  EXPECT_EQ(
      classify(body(R"({"messages": [1, {"role": "user"}, {"role": "user", "content": 7}]})")),
      TaskClass::kChat);
}

TEST(TaskClassifierTest, ToolsAndResponseFormatAreStructured) {
  Explanation why;
  EXPECT_EQ(classify(body(R"({"messages":[{"role":"user","content":"hello"}],
      "tools":[{"type":"function","function":{"name":"f"}}]})"),
                     &why),
            TaskClass::kStructured);
  EXPECT_NE(why.toString().find("tools:3"), std::string::npos) << why.toString();
  EXPECT_EQ(classify(body(R"({"messages":[{"role":"user","content":"hi"}],
      "response_format":{"type":"json_object"}})")),
            TaskClass::kStructured);
  // An empty tool list or a text response format says nothing.
  EXPECT_EQ(classify(body(R"({"messages":[{"role":"user","content":"hi"}], "tools":[],
      "response_format":{"type":"text"}})")),
            TaskClass::kChat);
}

TEST(TaskClassifierTest, ExplanationListsSignalsWithWeights) {
  Explanation why;
  EXPECT_EQ(classify(userSays("Fix this:\n```python\nprint(x\n```"), &why), TaskClass::kCode);
  EXPECT_EQ(why.task, TaskClass::kCode);
  bool fence = false;
  for (const auto& s : why.signals) fence |= (s.name == "code_fence" && s.weight == 2.5);
  EXPECT_TRUE(fence) << why.toString();
  EXPECT_GT(why.scores[static_cast<std::size_t>(TaskClass::kCode)],
            why.scores[static_cast<std::size_t>(TaskClass::kChat)]);
}

TEST(TaskClassifierTest, CjkKeywordsNeedNoWordBoundaries) {
  EXPECT_EQ(classify(userSays("请帮我总结这篇文章")), TaskClass::kSummarize);
  EXPECT_EQ(classify(userSays("この記事を要約して")), TaskClass::kSummarize);
  EXPECT_EQ(classify(userSays("写一首关于海的诗")), TaskClass::kCreative);
}

TEST(TaskClassifierTest, CaseFoldsAsciiAndCyrillic) {
  EXPECT_EQ(classify(userSays("SUMMARIZE THIS REPORT")), TaskClass::kSummarize);
  EXPECT_EQ(classify(userSays("КРАТКО ПЕРЕСКАЖИ ТЕКСТ")), TaskClass::kSummarize);
}

TEST(TaskClassifierTest, AsciiKeywordsRespectWordBoundaries) {
  // "code" inside "decode" or "postcode" is not a code signal.
  Explanation why;
  classify(userSays("What is my postcode"), &why);
  for (const auto& s : why.signals) EXPECT_NE(s.task, TaskClass::kCode) << why.toString();
}

TEST(TaskClassifierTest, SystemPromptCountsAtHalfWeight) {
  Explanation why;
  classify(body(R"({"messages":[{"role":"system","content":"You summarize documents."},
      {"role":"user","content":"Quarterly revenue rose."}]})"),
           &why);
  EXPECT_EQ(why.task, TaskClass::kSummarize) << why.toString();
  EXPECT_DOUBLE_EQ(why.scores[static_cast<std::size_t>(TaskClass::kSummarize)], 1.5);
}

TEST(TaskClassifierTest, OnlyTheLastUserMessageCounts) {
  EXPECT_EQ(classify(body(R"({"messages":[{"role":"user","content":"Write a poem"},
      {"role":"assistant","content":"Roses..."},{"role":"user","content":"Thanks!"}]})")),
            TaskClass::kChat);
}

TEST(TaskClassifierTest, ArrayContentIsRead) {
  EXPECT_EQ(classify(body(R"({"messages":[{"role":"user","content":[
      {"type":"text","text":"Prove that there are infinitely many primes."}]}]})")),
            TaskClass::kReasoning);
}

TEST(TaskClassifierTest, HugePromptsStayBoundedAndValid) {
  std::string text = "Summarize: ";
  for (int i = 0; i < 20000; ++i) text += "长文本。";  // cut points fall inside UTF-8 sequences
  Explanation why;
  EXPECT_EQ(classify(userSays(text), &why), TaskClass::kSummarize) << why.toString();
}

// Runs the classifier over a labelled JSONL corpus and prints per-class
// precision and recall, accuracy per language and overall; returns accuracy
// in percent. Set LLMGATE_CORPUS_VERBOSE=1 to list every miss with its
// explanation.
double corpusAccuracy(const std::string& file, int* rows) {
  const std::string path = std::string(LLMGATE_TEST_DATA_DIR) + "/" + file;
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  const bool verbose = std::getenv("LLMGATE_CORPUS_VERBOSE") != nullptr;

  std::map<std::string, std::pair<int, int>> by_lang;  // correct, total
  std::array<int, kTaskClassCount> tp{}, fp{}, fn{};
  int correct = 0, total = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const boost::json::object row = boost::json::parse(line).as_object();
    const std::string lang(row.at("lang").as_string());
    const auto expected = parseTaskClass(row.at("task").as_string());
    EXPECT_TRUE(expected) << line;
    if (!expected) continue;
    Explanation why;
    const TaskClass got = classify(row, &why);
    ++total;
    ++by_lang[lang].second;
    if (got == *expected) {
      ++correct;
      ++by_lang[lang].first;
      ++tp[static_cast<std::size_t>(got)];
    } else {
      ++fp[static_cast<std::size_t>(got)];
      ++fn[static_cast<std::size_t>(*expected)];
      if (verbose) {
        std::printf("MISS [%s] want=%s %s\n  %s\n", lang.c_str(),
                    std::string(toString(*expected)).c_str(), why.toString().c_str(),
                    line.substr(0, 300).c_str());
      }
    }
  }
  std::printf("%s\n%-11s %9s %9s\n", file.c_str(), "class", "precision", "recall");
  for (std::size_t i = 0; i < kTaskClassCount; ++i) {
    const double p = tp[i] + fp[i] ? 100.0 * tp[i] / (tp[i] + fp[i]) : 0;
    const double r = tp[i] + fn[i] ? 100.0 * tp[i] / (tp[i] + fn[i]) : 0;
    std::printf("%-11s %8.1f%% %8.1f%%\n", std::string(toString(static_cast<TaskClass>(i))).c_str(),
                p, r);
  }
  for (const auto& [lang, counts] : by_lang) {
    std::printf("lang %-4s %3d/%3d = %5.1f%%\n", lang.c_str(), counts.first, counts.second,
                100.0 * counts.first / counts.second);
  }
  const double accuracy = total ? 100.0 * correct / total : 0;
  std::printf("overall    %3d/%3d = %5.1f%%\n", correct, total, accuracy);
  *rows = total;
  return accuracy;
}

// The shipped corpus (336 prompts, 7 languages): the issue's bar is 85%.
TEST(TaskClassifierCorpusTest, AccuracyAtLeast85Percent) {
  int rows = 0;
  const double accuracy = corpusAccuracy("task_corpus.jsonl", &rows);
  EXPECT_GE(rows, 300);
  EXPECT_GE(accuracy, 85.0);
}

// Written after the rules were frozen and never tuned against: the honest
// figure (docs/ROUTING.md). The floor only catches a broken classifier.
TEST(TaskClassifierCorpusTest, HoldoutIsReported) {
  int rows = 0;
  const double accuracy = corpusAccuracy("task_corpus_holdout.jsonl", &rows);
  EXPECT_GE(rows, 50);
  EXPECT_GE(accuracy, 60.0);
}

}  // namespace
}  // namespace llmgate::proxy::routing
