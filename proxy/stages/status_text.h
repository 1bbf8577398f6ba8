// SPDX-License-Identifier: MIT
#pragma once

#include <string_view>

namespace proxy::stages {

// The reason phrase for a status gatehouse itself answers with.
std::string_view reason_phrase(int status);

}  // namespace proxy::stages
