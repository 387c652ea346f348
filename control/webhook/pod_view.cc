#include "control/webhook/pod_view.h"

#include <limits>

#include "absl/status/status.h"
#include "common/text/str_cat.h"

namespace llmgate::control::webhook {
namespace {

namespace json = boost::json;

std::string_view kindName(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "a list";
    case json::kind::object:
      return "a map";
  }
  return "unknown";
}

absl::Status wrongType(std::string_view path, std::string_view expected, const json::value& got) {
  return absl::InvalidArgumentError(strCat(path, ": expected ", expected, ", got ", kindName(got)));
}

// The member `key` of `parent` as an object; nullptr when absent or null.
absl::StatusOr<const json::object*> optionalObject(const json::object& parent, std::string_view key,
                                                   std::string_view path) {
  const json::value* value = parent.if_contains(key);
  if (value == nullptr || value->is_null()) return nullptr;
  if (!value->is_object()) return wrongType(path, "a map", *value);
  return &value->get_object();
}

// A list of maps each with a string `name`; nullptr when absent or null.
absl::StatusOr<const json::array*> optionalNamedList(const json::object& parent,
                                                     std::string_view key, std::string_view path) {
  const json::value* value = parent.if_contains(key);
  if (value == nullptr || value->is_null()) return nullptr;
  if (!value->is_array()) return wrongType(path, "a list", *value);
  std::size_t index = 0;
  for (const json::value& item : value->get_array()) {
    const std::string at = strCat(path, "[", index++, "]");
    if (!item.is_object()) return wrongType(at, "a map", item);
    const json::value* name = item.get_object().if_contains("name");
    if (name == nullptr || !name->is_string()) {
      return absl::InvalidArgumentError(strCat(at, ".name: expected a string"));
    }
  }
  return &value->get_array();
}

// The member `key` of `parent` as an integer; nullopt when absent or null.
// Above the int64 range it saturates (only compared, never written back).
absl::StatusOr<std::optional<std::int64_t>> optionalInteger(const json::object& parent,
                                                            std::string_view key,
                                                            std::string_view path) {
  const json::value* value = parent.if_contains(key);
  if (value == nullptr || value->is_null()) return std::optional<std::int64_t>();
  if (value->is_int64()) return std::optional<std::int64_t>(value->get_int64());
  if (value->is_uint64()) {
    return std::optional<std::int64_t>(std::numeric_limits<std::int64_t>::max());
  }
  return wrongType(path, "an integer", *value);
}

bool hasNamed(const json::array* list, std::string_view name) {
  if (list == nullptr) return false;
  for (const json::value& item : *list) {
    if (std::string_view(item.get_object().at("name").get_string()) == name) return true;
  }
  return false;
}

bool listDeclaresPort(const json::array* list, std::int64_t port) {
  if (list == nullptr) return false;
  for (const json::value& item : *list) {
    const json::value* ports = item.get_object().if_contains("ports");
    if (ports == nullptr || !ports->is_array()) continue;
    for (const json::value& entry : ports->get_array()) {
      if (!entry.is_object()) continue;
      const json::value* number = entry.get_object().if_contains("containerPort");
      if (number != nullptr && number->is_int64() && number->get_int64() == port) return true;
      if (number != nullptr && number->is_uint64() &&
          number->get_uint64() == static_cast<std::uint64_t>(port)) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

std::optional<std::string_view> PodView::annotation(std::string_view key) const {
  if (annotations == nullptr) return std::nullopt;
  const json::value* value = annotations->if_contains(key);
  if (value == nullptr) return std::nullopt;
  return std::string_view(value->get_string());
}

bool PodView::hasContainer(std::string_view container) const {
  return hasNamed(containers, container) || hasNamed(init_containers, container);
}

bool PodView::hasVolume(std::string_view volume) const { return hasNamed(volumes, volume); }

bool PodView::declaresPort(std::int64_t port) const {
  return listDeclaresPort(containers, port) || listDeclaresPort(init_containers, port);
}

absl::StatusOr<PodView> readPod(const json::value& object) {
  if (!object.is_object()) return wrongType("request.object", "a map", object);
  const json::object& pod = object.get_object();
  PodView view;
  absl::StatusOr<const json::object*> metadata =
      optionalObject(pod, "metadata", "request.object.metadata");
  if (!metadata.ok()) return metadata.status();
  view.metadata = *metadata;
  if (view.metadata != nullptr) {
    absl::StatusOr<const json::object*> annotations =
        optionalObject(*view.metadata, "annotations", "request.object.metadata.annotations");
    if (!annotations.ok()) return annotations.status();
    view.annotations = *annotations;
    if (view.annotations != nullptr) {
      for (const auto& member : *view.annotations) {
        if (!member.value().is_string()) {
          return wrongType(strCat("request.object.metadata.annotations[\"",
                                  std::string_view(member.key()), "\"]"),
                           "a string", member.value());
        }
      }
    }
    const json::value* name = view.metadata->if_contains("name");
    const json::value* generate = view.metadata->if_contains("generateName");
    if (name != nullptr && name->is_string() && !name->get_string().empty()) {
      view.name = std::string_view(name->get_string());
    } else if (generate != nullptr && generate->is_string()) {
      view.name = strCat(std::string_view(generate->get_string()), "*");
    }
  }
  const json::value* spec_value = pod.if_contains("spec");
  if (spec_value == nullptr || spec_value->is_null()) {
    return absl::InvalidArgumentError("request.object.spec: missing");
  }
  if (!spec_value->is_object()) return wrongType("request.object.spec", "a map", *spec_value);
  const json::object& spec = spec_value->get_object();
  absl::StatusOr<const json::array*> containers =
      optionalNamedList(spec, "containers", "request.object.spec.containers");
  if (!containers.ok()) return containers.status();
  if (*containers == nullptr || (*containers)->empty()) {
    return absl::InvalidArgumentError("request.object.spec.containers: missing or empty");
  }
  view.containers = *containers;
  absl::StatusOr<const json::array*> init_containers =
      optionalNamedList(spec, "initContainers", "request.object.spec.initContainers");
  if (!init_containers.ok()) return init_containers.status();
  view.init_containers = *init_containers;
  absl::StatusOr<const json::array*> volumes =
      optionalNamedList(spec, "volumes", "request.object.spec.volumes");
  if (!volumes.ok()) return volumes.status();
  view.volumes = *volumes;
  absl::StatusOr<std::optional<std::int64_t>> grace = optionalInteger(
      spec, "terminationGracePeriodSeconds", "request.object.spec.terminationGracePeriodSeconds");
  if (!grace.ok()) return grace.status();
  view.termination_grace_period_seconds = *grace;
  return view;
}

}  // namespace llmgate::control::webhook
