// SPDX-License-Identifier: MIT
#include "cache/compressed_variant.h"

#include <unistd.h>

#include "cache/cache_control.h"
#include "cache/policy.h"
#include "proxy/http/headers.h"

namespace cache {
namespace {

using proxy::http::HeaderList;
using proxy::http::iequals;

class WriterSink final : public ByteSink {
 public:
  explicit WriterSink(ObjectWriter& w) : w_(w) {}
  bool write(const char* data, size_t len) override { return w_.append(data, len); }

 private:
  ObjectWriter& w_;
};

void add_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

// Feeds the whole stored body to |enc|, from memory or from its file.
bool feed_body(const Object& obj, Compressor& enc, ByteSink& sink) {
  const uint64_t size = obj.available();
  uint64_t base = 0;
  const int fd = obj.file(base);
  uint64_t pos = 0;
  char buf[64 * 1024];
  while (pos < size) {
    std::string_view run;
    if (fd >= 0) {
      const size_t want = size - pos < sizeof buf ? static_cast<size_t>(size - pos) : sizeof buf;
      const ssize_t n = ::pread(fd, buf, want, static_cast<off_t>(base + pos));
      if (n <= 0) return false;
      run = std::string_view(buf, static_cast<size_t>(n));
    } else {
      run = obj.memory_at(pos);
      if (run.empty()) return false;
      if (run.size() > size - pos) run = run.substr(0, static_cast<size_t>(size - pos));
    }
    if (!enc.feed(run.data(), run.size(), sink)) return false;
    pos += run.size();
  }
  return enc.finish(sink);
}

}  // namespace

bool may_compress(const Object& identity) {
  const ObjectHead& h = identity.head();
  if (!identity.complete() || h.status != 200) return false;
  if (identity.available() > kMaxCompressOnHit) return false;
  HeaderList fields;
  if (!decode_fields(h.fields, fields)) return false;
  const auto* type = fields.find("content-type");
  if (!type || !compressible_type(type->value)) return false;
  if (const auto* ce = fields.find("content-encoding"); ce && !iequals(ce->value, "identity"))
    return false;
  return !parse_cache_control(fields).no_transform;
}

ObjectHead compressed_head(const ObjectHead& identity, Coding coding, std::string variant) {
  ObjectHead head = identity;
  head.variant = std::move(variant);
  head.body_size.reset();
  HeaderList fields;
  decode_fields(identity.fields, fields);
  std::string out;
  out.reserve(identity.fields.size() + 48);
  bool vary_has_ae = false;
  for (const auto& f : fields) {
    if (iequals(f.name, "content-length") || iequals(f.name, "content-encoding")) continue;
    if (iequals(f.name, "etag") && !f.value.starts_with("W/")) {
      out.append(f.name).append(": W/").append(f.value).append("\r\n");
      continue;
    }
    if (iequals(f.name, "vary") && proxy::http::list_contains(f.value, "accept-encoding"))
      vary_has_ae = true;
    add_field(out, f.name, f.value);
  }
  add_field(out, "Content-Encoding", coding_name(coding));
  if (!vary_has_ae) add_field(out, "Vary", "Accept-Encoding");
  head.fields = std::move(out);
  add_vary_accept_encoding(head.vary);
  return head;
}

std::shared_ptr<const Object> compress_variant(Cache& cache,
                                               const std::shared_ptr<const Object>& identity,
                                               Coding coding, std::string variant) {
  if (coding == Coding::kIdentity || !may_compress(*identity)) return nullptr;
  auto enc = Compressor::make(coding);
  if (!enc) return nullptr;
  auto writer = cache.fill(identity->key(),
                           compressed_head(identity->head(), coding, std::move(variant)), false);
  if (!writer) return nullptr;
  WriterSink sink(*writer);
  if (!feed_body(*identity, *enc, sink)) {
    writer->abort();
    return nullptr;
  }
  auto object = writer->object();
  if (!writer->commit()) return nullptr;
  return object;
}

}  // namespace cache
