// SPDX-License-Identifier: MIT
#include "rules/rule_set.h"
