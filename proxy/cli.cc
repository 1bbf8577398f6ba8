// SPDX-License-Identifier: MIT
#include "proxy/cli.h"

namespace proxy {
int run_cli(int, char**) { return 0; }
}  // namespace proxy
