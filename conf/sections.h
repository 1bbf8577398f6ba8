// SPDX-License-Identifier: MIT
#pragma once

#include "conf/config.h"
#include "conf/reader.h"

// The readers of each top-level section, private to the loader. Each fills its part of |config|
// and reports problems to |r|. Pools are read before anything that names a pool, and listeners
// before rules, so references are checked as they are read.
namespace conf::sections {

void read_settings(Reader& r, const MapView& top, Config& config);  // timeouts .. access_log
void read_listeners(Reader& r, const Value& v, Config& config);
void read_pools(Reader& r, const Value& v, Config& config);
void read_internal(Reader& r, const Value& v, Config& config);
void read_sendfile_roots(Reader& r, const Value& v, Config& config);
void read_rules(Reader& r, const Value& v, Config& config);

}  // namespace conf::sections
