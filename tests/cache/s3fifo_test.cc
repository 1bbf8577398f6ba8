// SPDX-License-Identifier: MIT
#include "cache/s3fifo.h"

#include <doctest/doctest.h>
