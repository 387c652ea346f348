// Small helpers to write JSON text by hand. fakellm builds its response bodies
// by appending to one reused string: it keeps the providers' key order byte for
// byte and costs no allocation once the string has grown.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace llmgate::fakellm {

// Appends `s` as a JSON string literal (quotes included), escaped per RFC 8259.
void appendJsonString(std::string& out, std::string_view s);

// Appends a JSON string literal, or `null` when `s` is empty.
void appendJsonStringOrNull(std::string& out, std::string_view s);

void appendInt(std::string& out, int64_t value);

// Shortest decimal form that reads back as the same float.
void appendFloat(std::string& out, float value);

}  // namespace llmgate::fakellm
