// SPDX-License-Identifier: MIT
#include "cache/compressed_variant.h"

#include <unistd.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

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

// The variants being made now, in any thread: a second request for one serves identity
// rather than compress it again. Touched only when a variant is made, never on a hit.
class InFlight {
 public:
  InFlight(const CacheKey& key, std::string_view variant) : key_(key), variant_(variant) {
    std::lock_guard lock(mu());
    for (const auto& e : list())
      if (e.first == key_ && e.second == variant_) return;
    list().emplace_back(key_, variant_);
    owner_ = true;
  }
  ~InFlight() {
    if (!owner_) return;
    std::lock_guard lock(mu());
    auto& l = list();
    for (size_t i = 0; i < l.size(); ++i)
      if (l[i].first == key_ && l[i].second == variant_) {
        l[i] = std::move(l.back());
        l.pop_back();
        break;
      }
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  bool owner() const { return owner_; }

 private:
  static std::mutex& mu() {
    static std::mutex m;
    return m;
  }
  static std::vector<std::pair<CacheKey, std::string>>& list() {
    static std::vector<std::pair<CacheKey, std::string>> l;
    return l;
  }
  CacheKey key_;
  std::string variant_;
  bool owner_ = false;
};

}  // namespace

namespace {

bool compressible(int status, std::string_view stored_fields) {
  if (status != 200) return false;
  HeaderList fields;
  if (!decode_fields(stored_fields, fields)) return false;
  const auto* type = fields.find("content-type");
  if (!type || !compressible_type(type->value)) return false;
  if (const auto* ce = fields.find("content-encoding"); ce && !iequals(ce->value, "identity"))
    return false;
  return !parse_cache_control(fields).no_transform;
}

}  // namespace

bool compressible_object(const StoredHead& h) {
  return compressible(h.status(), h.fields());
}

bool compressible_object(const ObjectHead& h) {
  return compressible(h.status, h.fields);
}

bool may_compress(const Object& identity) {
  if (!identity.complete() || identity.available() > kMaxCompressOnHit) return false;
  return compressible_object(identity.head());
}

ObjectHead compressed_head(ObjectHead head, Coding coding, std::string variant) {
  head.variant = std::move(variant);
  head.body_size.reset();
  HeaderList fields;
  decode_fields(head.fields, fields);
  std::string out;
  out.reserve(head.fields.size() + 48);
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

ObjectRef compress_variant(Cache& cache, const ObjectRef& identity, Coding coding,
                           std::string variant) {
  if (coding == Coding::kIdentity || !may_compress(*identity)) return nullptr;
  const InFlight guard(identity->key(), variant);
  if (!guard.owner()) return nullptr;
  auto enc = Compressor::make(coding);
  if (!enc) return nullptr;
  auto writer =
      cache.fill(identity->key(),
                 compressed_head(identity->head().to_owned(), coding, std::move(variant)), false);
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
