// SPDX-License-Identifier: MIT
#pragma once

#include "conf/config.h"
#include "conf/reader.h"

namespace conf::sections {

// Reads a rule's `match` map into |match|, checking regexes, CIDRs and listener names. Returns
// true when the map holds no key at all (the rule matches every request).
bool read_match(Reader& r, const Value& v, const Config& config, RuleMatch& match);

}  // namespace conf::sections
