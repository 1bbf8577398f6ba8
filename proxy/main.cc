// SPDX-License-Identifier: MIT
#include "proxy/cli.h"

int main(int argc, char** argv) {
  return proxy::run_cli(argc, argv);
}
