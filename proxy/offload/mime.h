// SPDX-License-Identifier: MIT
#pragma once

#include <string_view>

namespace proxy::offload {

// The Content-Type of a file by its extension (the last '.' of the name's last segment, case
// does not matter), from a built-in table like nginx's mime.types; "application/octet-stream"
// for an unknown or missing extension. The view is static.
std::string_view mime_type(std::string_view file_name);

}  // namespace proxy::offload
