#include "control/state/state_file.h"

#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/text/str_cat.h"

namespace llmgate::control::state {
namespace {

namespace v1 = llmgate::control::v1;
namespace pbutil = google::protobuf::util;

constexpr int kFormat = 1;

absl::Status errnoStatus(std::string_view what, const std::string& path) {
  const int error = errno;
  return absl::InternalError(strCat(path, ": ", what, ": ", std::strerror(error)));
}

template <typename Message>
boost::json::value messageToValue(const Message& message) {
  std::string text;
  pbutil::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)pbutil::MessageToJsonString(message, &text, options);
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec);
  return ec ? boost::json::value() : value;
}

template <typename Message>
absl::Status valueToMessage(const boost::json::value& value, Message* message,
                            std::string_view path) {
  const auto status = pbutil::JsonStringToMessage(boost::json::serialize(value), message);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        strCat(path, ": ", std::string(status.message().data(), status.message().size())));
  }
  return absl::OkStatus();
}

}  // namespace

std::string toJson(const OperatorState& state) {
  boost::json::object root;
  root["format"] = kFormat;
  root["route_version"] = state.route_version;
  if (state.policies) {
    boost::json::array policies;
    for (const v1::Policy& policy : *state.policies) policies.push_back(messageToValue(policy));
    root["policies"] = std::move(policies);
  }
  boost::json::array overrides;
  for (const v1::Override& item : state.overrides) overrides.push_back(messageToValue(item));
  root["overrides"] = std::move(overrides);
  return boost::json::serialize(root) + "\n";
}

absl::StatusOr<OperatorState> fromJson(const std::string& json) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(json, ec);
  if (ec || !value.is_object()) return absl::DataLossError("not a JSON object");
  const boost::json::object& root = value.get_object();
  OperatorState state;
  if (const auto* format = root.if_contains("format");
      format == nullptr || !format->is_int64() || format->as_int64() != kFormat) {
    return absl::DataLossError(strCat("format: expected ", kFormat));
  }
  if (const auto* version = root.if_contains("route_version")) {
    if (version->is_uint64()) {
      state.route_version = version->as_uint64();
    } else if (version->is_int64() && version->as_int64() >= 0) {
      state.route_version = static_cast<std::uint64_t>(version->as_int64());
    } else {
      return absl::DataLossError("route_version: expected a non-negative integer");
    }
  }
  if (const auto* policies = root.if_contains("policies")) {
    if (!policies->is_array()) return absl::DataLossError("policies: expected a list");
    state.policies.emplace();
    std::size_t i = 0;
    for (const auto& item : policies->get_array()) {
      v1::Policy policy;
      absl::Status s = valueToMessage(item, &policy, strCat("policies[", i++, "]"));
      if (!s.ok()) return s;
      state.policies->push_back(std::move(policy));
    }
  }
  if (const auto* overrides = root.if_contains("overrides")) {
    if (!overrides->is_array()) return absl::DataLossError("overrides: expected a list");
    std::size_t i = 0;
    for (const auto& item : overrides->get_array()) {
      v1::Override entry;
      absl::Status s = valueToMessage(item, &entry, strCat("overrides[", i++, "]"));
      if (!s.ok()) return s;
      state.overrides.push_back(std::move(entry));
    }
  }
  return state;
}

absl::Status writeFileAtomically(const std::string& path, const std::string& content) {
  const std::filesystem::path target(path);
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  const std::string temp = strCat(path, ".tmp.", static_cast<long>(::getpid()));
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errnoStatus("cannot create the temporary file", temp);
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status status = errnoStatus("write failed", temp);
      ::close(fd);
      ::unlink(temp.c_str());
      return status;
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    absl::Status status = errnoStatus("fsync failed", temp);
    ::close(fd);
    ::unlink(temp.c_str());
    return status;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    absl::Status status = errnoStatus("rename failed", path);
    ::unlink(temp.c_str());
    return status;
  }
  // The rename itself is durable only once the directory is synced.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    (void)::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

absl::Status saveState(const std::string& path, const OperatorState& state) {
  return writeFileAtomically(path, toJson(state));
}

absl::StatusOr<OperatorState> loadState(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return absl::NotFoundError(strCat(path, ": no state file yet"));
    return errnoStatus("cannot open the state file", path);
  }
  std::ostringstream content;
  content << in.rdbuf();
  absl::StatusOr<OperatorState> state = fromJson(content.str());
  if (!state.ok()) {
    return absl::DataLossError(strCat(path, ": ", std::string(state.status().message())));
  }
  return state;
}

}  // namespace llmgate::control::state
