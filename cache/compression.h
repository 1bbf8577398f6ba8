// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

// Compression of stored responses (cache.compress): a compressible response that the backend
// sent uncompressed is compressed once, as it is stored, and kept per coding beside the
// identity object, so hits never compress again.
namespace cache {

enum class Coding : unsigned char { kIdentity, kGzip, kBrotli };

// The Content-Encoding token of |c| ("" for identity).
std::string_view coding_name(Coding c);

// The codings the operator enabled (cache.compress).
struct CodingSet {
  bool gzip = false;
  bool br = false;
};

// RFC 9110 12.5.3: the coding to answer a request's Accept-Encoding with, among |enabled|:
// the one with the highest qvalue (brotli before gzip on a tie, being smaller), identity when
// none is acceptable or the field is absent. "*" stands for any coding not named; q=0 refuses.
Coding choose_coding(std::string_view accept_encoding, CodingSet enabled);

// The secondary-key form of an Accept-Encoding value (Vary: Accept-Encoding, cache/vary.cc):
// the content codings among br, deflate, gzip and zstd that it accepts (qvalue above 0, "*"
// for those not named, x-gzip as gzip), sorted and comma-joined; "" for none (identity only),
// appended to |out|. Keying on the acceptable set rather than on the coding gatehouse would
// choose keeps backend-made variants right: "gzip, br" and "br" differ for a backend that only
// speaks gzip (the first gets gzip, the second identity). Two requests with the same set get
// the same answer from a backend that chooses by what is acceptable.
void accepted_codings(std::string_view accept_encoding, std::string& out);

// Whether a response with this Content-Type is worth compressing: text, JSON, JavaScript, XML,
// SVG, WebAssembly and the like, but not images, archives, video or other compressed formats.
bool compressible_type(std::string_view content_type);

// Receives compressed bytes. Returns false to stop (the storage refused them).
class ByteSink {
 public:
  virtual bool write(const char* data, size_t len) = 0;

 protected:
  ~ByteSink() = default;
};

// A streaming encoder for one body. feed() as the body arrives, then finish() once.
class Compressor {
 public:
  virtual ~Compressor() = default;
  // Null for identity, or if the library cannot set up (out of memory).
  static std::unique_ptr<Compressor> make(Coding coding);
  // False if the encoder failed or the sink refused bytes; the body is then not stored compressed.
  virtual bool feed(const char* data, size_t len, ByteSink& out) = 0;
  virtual bool finish(ByteSink& out) = 0;
};

}  // namespace cache
