// SPDX-License-Identifier: MIT
#include "conf/loader.h"
