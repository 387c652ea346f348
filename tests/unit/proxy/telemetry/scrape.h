// Test helper: the registry as Prometheus text, and one sample's value from it.
#pragma once

#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace llmgate::proxy::telemetry::testing {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

inline std::string scrapeText(prometheus::Registry& registry) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry.Collect());
  return out.str();
}

// Parses `name{a="x",b="y"} value` lines (our label values hold no quotes).
inline std::vector<Sample> parseSamples(const std::string& text) {
  std::vector<Sample> samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    std::size_t brace = line.find('{');
    std::size_t space;
    if (brace != std::string::npos) {
      s.name = line.substr(0, brace);
      std::size_t close = line.find('}', brace);
      std::string body = line.substr(brace + 1, close - brace - 1);
      std::size_t pos = 0;
      while (pos < body.size()) {
        std::size_t eq = body.find('=', pos);
        std::size_t q1 = body.find('"', eq);
        std::size_t q2 = body.find('"', q1 + 1);
        s.labels[body.substr(pos, eq - pos)] = body.substr(q1 + 1, q2 - q1 - 1);
        pos = q2 + 2;  // skip `",`
      }
      space = close + 1;
    } else {
      space = line.find(' ');
      s.name = line.substr(0, space);
    }
    s.value = std::stod(line.substr(space + 1));
    samples.push_back(std::move(s));
  }
  return samples;
}

// The value of the one sample with this name and exactly these labels.
inline std::optional<double> sampleValue(const std::string& text, const std::string& name,
                                         const std::map<std::string, std::string>& labels = {}) {
  for (const Sample& s : parseSamples(text)) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return std::nullopt;
}

}  // namespace llmgate::proxy::telemetry::testing
