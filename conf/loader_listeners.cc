// SPDX-License-Identifier: MIT
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "conf/address.h"
#include "conf/quote.h"
#include "conf/sections.h"

namespace conf::sections {
namespace {

// Reports |v| when the file it names cannot be opened for reading. Whether the contents make
// sense (PEM, matching key) is the tls module's check.
void check_readable(Reader& r, const Value& v, const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    r.error(v, "cannot read " + quoted(path) + ": " + std::strerror(errno));
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    r.error(v, "cannot read " + quoted(path) + ": it is a directory");
    return;
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    r.error(v, "cannot read " + quoted(path) + ": " + std::strerror(errno));
    return;
  }
  std::fclose(f);
}

std::optional<std::string> read_file_path(Reader& r, const Value& v) {
  auto path = r.path(v);
  if (path && r.check_files()) check_readable(r, v, *path);
  return path;
}

TlsConfig read_tls(Reader& r, const Value& v) {
  TlsConfig tls;
  MapView m(r, v, {"certificates", "min_version", "alpn"});
  Value certs = m.require("certificates");
  for (const Value& item : r.items(certs, false)) {
    MapView c(r, item, {"cert", "key", "ocsp_staple"});
    if (!c.ok()) continue;
    Certificate cert;
    Value cert_path = c.require("cert");
    if (cert_path) {
      cert.line = cert_path.mark.line + 1;
      cert.column = cert_path.mark.column + 1;
    }
    store(read_file_path(r, cert_path), cert.cert);
    store(read_file_path(r, c.require("key")), cert.key);
    if (Value staple = c.get("ocsp_staple")) cert.ocsp_staple_at = position_of(staple);
    store(read_file_path(r, c.get("ocsp_staple")), cert.ocsp_staple);
    tls.certificates.push_back(std::move(cert));
  }
  if (certs && tls.certificates.empty() && (certs.node.IsNull() || certs.node.IsSequence()))
    r.error(certs, "at least one certificate is required");
  store(r.choice(m.get("min_version"), {"TLSv1.2", "TLSv1.3"}), tls.min_version);
  if (Value alpn = m.get("alpn")) {
    tls.alpn.clear();
    for (const Value& item : r.items(alpn, true)) {
      auto proto = r.choice(item, {"h2", "http/1.1"});
      if (!proto) continue;
      if (std::find(tls.alpn.begin(), tls.alpn.end(), *proto) != tls.alpn.end())
        r.error(item, quoted(*proto) + " is listed twice");
      else
        tls.alpn.push_back(*proto);
    }
    if (tls.alpn.empty() && (alpn.node.IsNull() || alpn.node.IsSequence()))
      r.error(alpn, "at least one protocol is required");
  }
  return tls;
}

TcpRelay read_tcp(Reader& r, const Value& v, const Config& config) {
  TcpRelay tcp;
  MapView m(r, v, {"pool", "proxy_protocol"});
  Value pool = m.require("pool");
  if (auto name = r.string(pool)) {
    if (!config.find_pool(*name)) r.error(pool, "no pool named " + quoted(*name));
    tcp.pool = *name;
  }
  store(r.choice(m.get("proxy_protocol"), {"v1", "v2"}), tcp.proxy_protocol);
  return tcp;
}

}  // namespace

void read_listeners(Reader& r, const Value& v, Config& config) {
  std::set<std::string> names, addresses;
  for (const Value& item : r.items(v, false)) {
    MapView m(r, item, {"name", "address", "admin", "tls", "tcp"});
    if (!m.ok()) continue;
    Listener l;
    l.line = item.mark.line + 1;
    Value name = m.require("name");
    if (auto s = r.string(name)) {
      if (!names.insert(*s).second) r.error(name, "another listener is named " + quoted(*s));
      l.name = *s;
    }
    Value address = m.require("address");
    if (auto s = r.string(address)) {
      *s = r.resolve_address(*s);
      if (auto a = parse_address(*s, AddressUse::kListen); !a)
        r.error(address, "expected " + a.error());
      else if (a->port != 0 && !addresses.insert(*s).second)
        r.error(address, "another listener already uses " + quoted(*s));
      l.address = *s;
    }
    store(r.boolean(m.get("admin")), l.admin);
    if (Value tls = m.get("tls")) l.tls = read_tls(r, tls);
    if (Value tcp = m.get("tcp")) {
      l.tcp = read_tcp(r, tcp, config);
      if (l.tls) r.error(tcp, "a tcp relay cannot also terminate tls");
      if (l.admin) r.error(tcp, "an admin listener serves the admin API and cannot relay tcp");
    }
    config.listeners.push_back(std::move(l));
  }
}

}  // namespace conf::sections
