// The text of a chat message's `content`: a string, or the `text` parts of a
// content array joined by newlines (images and other parts skipped).
#pragma once

#include <string>

#include "boost/json/value.hpp"

namespace llmgate::proxy::routing {

void appendMessageText(const boost::json::value& content, std::string& out);

}  // namespace llmgate::proxy::routing
