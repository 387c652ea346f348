// A checked, read-only view of the parts of a Pod (an AdmissionReview's
// request.object) that injection reads or patches. Pointers refer into the
// parsed document, which must outlive the view.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "boost/json/array.hpp"
#include "boost/json/object.hpp"
#include "boost/json/value.hpp"

namespace llmgate::control::webhook {

struct PodView {
  const boost::json::object* metadata = nullptr;     // nullptr: absent or null
  const boost::json::object* annotations = nullptr;  // nullptr: absent or null
  const boost::json::array* containers = nullptr;    // never nullptr in a valid view
  const boost::json::array* init_containers = nullptr;
  const boost::json::array* volumes = nullptr;
  // spec.terminationGracePeriodSeconds; nullopt when absent or null (the
  // API server then defaults it to 30).
  std::optional<std::int64_t> termination_grace_period_seconds;
  std::string name;  // metadata.name, or generateName + "*", or ""

  // The annotation's value; nullopt when absent.
  std::optional<std::string_view> annotation(std::string_view key) const;
  // True if a container or init container has this name.
  bool hasContainer(std::string_view name) const;
  bool hasVolume(std::string_view name) const;
  // True if a container or init container declares this containerPort.
  bool declaresPort(std::int64_t port) const;
};

// Checks the types injection relies on (metadata and annotations are maps of
// strings, spec.containers a non-empty list of maps with a string name, the
// optional initContainers and volumes lists of maps,
// terminationGracePeriodSeconds an integer) and returns the view, or
// InvalidArgument naming the first offending path ("spec.containers[1]: ...").
absl::StatusOr<PodView> readPod(const boost::json::value& object);

}  // namespace llmgate::control::webhook
