// SPDX-License-Identifier: MIT
#include "proxy/tls_contexts.h"

namespace proxy {

std::vector<conf::ConfigError> check_certificates(const conf::Config& config,
                                                  const std::string& file, std::time_t now) {
  std::vector<conf::ConfigError> problems;
  for (const auto& l : config.listeners) {
    if (!l.tls) continue;
    for (const auto& c : l.tls->certificates) {
      auto loaded = tls::load_certificate(c, now);
      // A staple that cannot be used is reported at its own `ocsp_staple:` line.
      bool staple =
          c.ocsp_staple_at.line > 0 && !loaded && loaded.error().starts_with("OCSP response ");
      conf::Position at = staple ? c.ocsp_staple_at : conf::Position{c.line, c.column};
      if (!loaded)
        problems.push_back(
            {file, at.line, at.column, "listener " + l.name + ": " + loaded.error()});
      else if (!loaded->warning.empty())
        problems.push_back(
            {file, c.line, c.column, "listener " + l.name + ": " + loaded->warning, true});
    }
  }
  return problems;
}

base::Expected<std::shared_ptr<const TlsContexts>, std::string> build_tls_contexts(
    const conf::Config& config, std::time_t now, std::shared_ptr<tls::TicketKeys> ticket_keys,
    const tls::FileContents* files) {
  auto out = std::make_shared<TlsContexts>();
  for (const auto& l : config.listeners) {
    if (!l.tls) {
      out->by_listener.push_back(nullptr);
      continue;
    }
    auto ctx = tls::ServerContext::build(*l.tls, now, ticket_keys, files);
    if (!ctx) return base::unexpected("listener " + l.name + ": " + ctx.error());
    for (auto& w : (*ctx)->warnings()) out->warnings.push_back("listener " + l.name + ": " + w);
    out->by_listener.push_back(std::shared_ptr<const tls::ServerContext>(std::move(*ctx)));
  }
  return std::shared_ptr<const TlsContexts>(std::move(out));
}

base::Expected<tls::FileContents, std::string> read_tls_files(const conf::Config& config) {
  tls::FileContents files;
  for (const auto& l : config.listeners) {
    if (!l.tls) continue;
    if (auto r = tls::read_certificate_files(*l.tls, files); !r) {
      tls::cleanse(files);
      return base::unexpected("listener " + l.name + ": " + r.error());
    }
  }
  return files;
}

}  // namespace proxy
