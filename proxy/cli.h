// SPDX-License-Identifier: MIT
#pragma once

namespace proxy {

// argv -> exit code: parses the command line and runs `check`, `--version`, `--help` or the server.
int run_cli(int argc, char** argv);

}  // namespace proxy
