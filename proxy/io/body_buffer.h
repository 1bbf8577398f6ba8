// SPDX-License-Identifier: MIT
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "proxy/base/error.h"
#include "proxy/base/event_handles.h"
#include "proxy/base/expected.h"
#include "proxy/base/unique_fd.h"

namespace proxy::io {

class Transport;

// Temporary-file bytes shared by the bodies of one client connection, so that max_temp_file
// bounds a connection (an HTTP/2 client with many streams) as well as each body. Owned by the
// connection; every body charged to it is reset before the connection goes.
struct FileBudget {
  uint64_t limit = 0;
  uint64_t used = 0;  // unsent bytes in the files of the bodies sharing it
};

// A byte FIFO kept in memory up to a limit and spilled to an anonymous temporary file past it, so
// a fast producer (a backend) never waits for a slow consumer (a client) and memory stays bounded.
// Order is kept: bytes leave in the order they came, memory first, then the file; once the file
// has been drained the FIFO goes back to memory.
//
// Producers that hold the bytes already (a cache object, a file) hand them over without a copy:
// append_reference() queues someone else's memory, append_file() a range of someone else's file.
// A file range takes the place of the temporary file in the order (memory, then the range); bytes
// appended while it is pending follow it, in memory.
class BodyBuffer {
 public:
  BodyBuffer() = default;
  BodyBuffer(const BodyBuffer&) = delete;
  BodyBuffer& operator=(const BodyBuffer&) = delete;

  // memory_limit: bytes kept in memory before spilling; file_limit: bytes allowed in the file
  // (0: never spill). temp_dir: where the unlinked file is made.
  void configure(size_t memory_limit, uint64_t file_limit, const char* temp_dir) {
    memory_limit_ = memory_limit;
    file_limit_ = file_limit;
    temp_dir_ = temp_dir;
  }
  // No temporary file from now on (file_limit 0, memory limit kept): for producers whose bytes
  // are stored elsewhere already (a cache object, a file), which must not be copied to disk.
  void disable_spill() { file_limit_ = 0; }
  // The file bytes of this body also count against |budget| (nullptr: only file_limit), until
  // reset().
  void share_file_budget(FileBudget* budget);

  // Appends bytes; fails only if the temporary file cannot be written.
  base::Expected<void, base::Error> append(const char* data, size_t len);
  base::Expected<void, base::Error> append(std::string_view s) {
    return append(s.data(), s.size());
  }
  // Appends |len| bytes at |data| that someone else owns (a cached object's memory), without a
  // copy. |release|(data, len, arg) is called exactly once, when the bytes have been sent or
  // dropped (reset(), or the destination of move_to() freeing them); it may be called inside
  // this call (len 0, a failure, or bytes that had to be copied behind a temporary file). The
  // bytes count in memory_size() and room() like copied ones.
  using ReleaseFn = void (*)(const void* data, size_t len, void* arg);
  base::Expected<void, base::Error> append_reference(const char* data, size_t len,
                                                     ReleaseFn release, void* arg);
  // Appends the range [offset, offset + len) of |fd|, a file someone else owns (a disk cache
  // object, an offloaded file), after the bytes already queued. |keep| holds the fd's owner alive
  // until the range is sent or the buffer reset. Only one file range at a time, and never while
  // temporary-file bytes are pending (fails then): a producer adds its next range once the
  // previous one has drained (file_size() == 0; empty() for the whole FIFO). The range uses no
  // memory: room() does not count it. It leaves with sendfile(2) on a plain socket or a kernel-TLS
  // transport, through a copy otherwise, and is read into the destination by move_to(). The file
  // is read as it is when the bytes leave: it must not change under the range (a file shorter
  // than the range fails the write with EIO rather than sending a short body).
  base::Expected<void, base::Error> append_file(int fd, uint64_t offset, uint64_t len,
                                                std::shared_ptr<const void> keep);

  // printf-style append of a short framing line (chunk sizes); always goes to memory if nothing is
  // in the file, else to the file to keep order.
  base::Expected<void, base::Error> append_chunk_header(size_t n);

  // Room that can be filled by reading straight into memory (reserve/commit), 0 when the next
  // bytes must go to the file.
  size_t memory_room() const;
  // Reads up to `max` bytes from `fd` straight into the FIFO's memory (no extra copy). Returns
  // bytes read, 0 on EOF, -1 with errno set (EAGAIN included).
  ssize_t read_from(int fd, size_t max);
  // The same from a client transport (decrypted bytes when it is TLS).
  ssize_t read_from(Transport& transport, size_t max);

  // Writes as much as the socket `fd` (or the transport) takes: memory with writev, then the
  // file (through a copy, or sendfile when the transport has kernel TLS). Returns bytes written
  // (0 if empty), -1 with errno on error (EAGAIN when it is full).
  ssize_t write_to(int fd);
  ssize_t write_to(Transport& transport);
  // Moves up to |max| bytes from the front into |dst|, for a codec that frames the bytes itself
  // (HTTP/2 DATA): memory chains are handed over without a copy, file bytes are read into |dst|.
  // Returns the bytes moved, or -1 with errno if the file could not be read.
  // |prefix| (a frame head) goes into |dst| before the bytes; when they come from a file, prefix
  // and bytes are one contiguous piece, so that a TLS record is written from it without gathering.
  ssize_t move_to(evbuffer* dst, size_t max, std::string_view prefix = {});

  // Bytes in memory (copied or referenced), including those queued behind a file range.
  size_t memory_size() const {
    return (mem_ ? evbuffer_get_length(mem_.get()) : 0) +
           (tail_ ? evbuffer_get_length(tail_.get()) : 0);
  }
  // Bytes waiting in a file: the temporary file's, or a file range's.
  uint64_t file_size() const { return spill_size() + range_size(); }
  // A file range (append_file) is still pending.
  bool file_range_pending() const { return range_size() > 0; }
  uint64_t size() const { return memory_size() + file_size(); }
  bool empty() const { return size() == 0; }
  // Bytes the producer may still add before it should pause (backpressure).
  uint64_t room() const;

  // Drops everything and releases the memory and the file.
  void reset();

 private:
  evbuffer* mem();
  evbuffer* tail();
  uint64_t spill_size() const { return file_end_ - file_pos_; }
  uint64_t range_size() const { return range_end_ - range_pos_; }
  // The file range has been sent: let go of it, and the bytes behind it come to the front.
  void range_done();
  // Sends range bytes to |sink|: bytes sent, -1 with errno.
  template <typename Sink>
  ssize_t write_range(Sink& sink);
  template <typename Sink>
  ssize_t write_spill(Sink& sink);
  // Reads up to |max| file bytes (temporary file, or range) from the front into |dst|.
  ssize_t move_file_to(evbuffer* dst, size_t max, std::string_view prefix);
  uint64_t punch_step() const;
  // After bytes were taken from the file: rewinds a drained file, or frees sent disk blocks.
  void file_taken();
  // Brings the budget's count in line with the bytes now in the file.
  void charge_budget();
  base::Expected<void, base::Error> append_spill(const char* data, size_t len);
  template <typename Sink>
  ssize_t write_with(Sink& sink);

  static constexpr int kMaxIov = 16;

  base::EvbufferPtr mem_;
  base::UniqueFd file_;
  uint64_t file_pos_ = 0;  // next byte to send
  uint64_t file_end_ = 0;  // next byte to write
  uint64_t punched_ = 0;   // the file's first bytes up to here were sent and freed on disk
  size_t memory_limit_ = 256 * 1024;
  uint64_t file_limit_ = 0;
  const char* temp_dir_ = "/tmp";
  // The file range: [range_pos_, range_end_) of range_fd_, owned by range_keep_'s object.
  int range_fd_ = -1;
  uint64_t range_pos_ = 0;
  uint64_t range_end_ = 0;
  std::shared_ptr<const void> range_keep_;
  int corked_ = -1;  // the socket TCP_CORK is on for while a large range goes out (-1: none)
  void uncork();
  base::EvbufferPtr tail_;  // bytes appended while the range is pending: they follow it
  FileBudget* budget_ = nullptr;
  uint64_t charged_ = 0;  // bytes this body counts in budget_
};

}  // namespace proxy::io
