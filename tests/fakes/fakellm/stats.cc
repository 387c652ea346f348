#include "tests/fakes/fakellm/stats.h"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/text/str_cat.h"

namespace llmgate::fakellm {

namespace json = boost::json;

void Stats::recordRequest(std::string_view method, std::string_view target,
                          const boost::beast::http::fields& headers, std::string_view body) {
  const std::string_view path = target.substr(0, target.find('?'));
  std::lock_guard lock(mu_);
  ++requests_;
  if (auto it = by_path_.find(path); it != by_path_.end()) {
    ++it->second;
  } else {
    by_path_.emplace(std::string(path), 1);
  }
  Recorded& slot = ring_[next_];
  next_ = (next_ + 1) % kLastRequests;
  count_ = std::min(count_ + 1, kLastRequests);
  slot.method.assign(method);
  slot.path.assign(target);
  size_t n = 0;
  for (const auto& field : headers) {
    if (slot.headers.size() <= n) slot.headers.emplace_back();
    auto& [name, value] = slot.headers[n++];
    const std::string_view raw_name = field.name_string();
    name.resize(raw_name.size());
    for (size_t i = 0; i < raw_name.size(); ++i) {
      const char c = raw_name[i];
      name[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    value.assign(field.value());
  }
  slot.headers.resize(n);
  slot.body_size = body.size();
  slot.body.assign(body.substr(0, std::min(body.size(), kMaxRecordedBody)));
}

std::string Stats::toJson() const {
  json::object root;
  std::lock_guard lock(mu_);
  root["requests"] = requests_;
  root["connections_accepted"] = connections_.load(std::memory_order_relaxed);
  json::object& by_path = root["by_path"].emplace_object();
  for (const auto& [path, n] : by_path_) by_path[path] = n;
  json::array& last = root["last_requests"].emplace_array();
  for (size_t i = 0; i < count_; ++i) {
    const Recorded& r = ring_[(next_ + kLastRequests - count_ + i) % kLastRequests];
    json::object entry;
    entry["method"] = r.method;
    entry["path"] = r.path;
    json::object& headers = entry["headers"].emplace_object();
    for (const auto& [name, value] : r.headers) {
      if (auto* existing = headers.if_contains(name)) {
        existing->as_string().append(", ");
        existing->as_string().append(value);
      } else {
        headers[name] = value;
      }
    }
    if (r.body_size > r.body.size()) {
      entry["body"] = strCat("<", r.body_size, " bytes, not recorded>");
    } else if (r.body.empty()) {
      entry["body"] = nullptr;
    } else {
      boost::system::error_code ec;
      json::value parsed = json::parse(r.body, ec);
      if (ec) {
        entry["body"] = r.body;
      } else {
        entry["body"] = std::move(parsed);
      }
    }
    last.push_back(std::move(entry));
  }
  return json::serialize(root);
}

void Stats::reset() {
  connections_.store(0, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  requests_ = 0;
  by_path_.clear();
  next_ = 0;
  count_ = 0;
}

}  // namespace llmgate::fakellm
