// SPDX-License-Identifier: MIT
#pragma once

#include <event2/event_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include "proxy/base/event_handles.h"
#include "proxy/connection.h"
#include "proxy/io/transport.h"

namespace proxy {

class EventLoop;

// A byte tunnel between two connections: what one side sends, the other receives, both ways at
// once. After a WebSocket's 101 it joins a client (plain or TLS) and its backend; the TCP relay
// of a later issue joins a plain listener's client to a pool's server the same way.
//
// - Backpressure: each direction holds at most kBufferLimit bytes (plus one read); a side is not
//   read while the other side's output is over it, so a fast sender waits for a slow reader.
// - Half-close: the end of one side's stream (FIN, TLS close_notify) shuts down writing to the
//   other side once the bytes before it are out; the other direction goes on. The tunnel closes
//   when both directions have ended, when either side fails, or after |idle| with no byte moved
//   either way.
// - Memory: this object and two evbuffers, empty while the bytes flow straight through (a read
//   goes to the loop's scratch and is written on at once; only what the other side does not take
//   is kept).
//
// Owns itself: it goes away when it closes, and gives the client's place back to the loop
// (release_connection) then. As a Connection it is counted by the loop; a graceful stop leaves it
// open until it ends or the worker's shutdown deadline, as in-flight requests are.
class Tunnel final : public Connection {
 public:
  static constexpr size_t kBufferLimit = 64 * 1024;

  // |a| is the client side (its peer address is released at the close), |b| the other one.
  Tunnel(EventLoop& loop, io::Transport&& a, io::Transport&& b, const sockaddr* peer,
         socklen_t peer_len, const timeval* idle);
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  // Before start(): bytes that go to a side before anything read from the other one (a response
  // head and the bytes that came behind it, pipelined request bytes).
  evbuffer* output_to_a() { return end_[0].out.get(); }
  void queue_to_a(const char* data, size_t len);
  void queue_to_b(const char* data, size_t len);
  // Starts relaying; the tunnel may be gone when this returns.
  void start();
  void drain() override {}

  uint64_t bytes_to_a() const { return moved_[0]; }
  uint64_t bytes_to_b() const { return moved_[1]; }

 private:
  struct End {
    io::Transport transport;
    event ev;
    base::EvbufferPtr out;  // bytes for this side, not yet written
    bool readable = true;   // edge-triggered: true until a read says EAGAIN
    bool writable = true;
    bool peer_closed = false;       // EV_CLOSED seen: reads go on until they see the end
    bool read_waits_write = false;  // TLS: a read said EAGAIN until the socket takes bytes
    bool write_waits_read = false;  // TLS: a write said EAGAIN until bytes come in
    bool eof = false;               // this side sent its last byte
    bool shut = false;              // writing to this side was shut down
  };

  ~Tunnel();
  static void on_event(evutil_socket_t fd, short what, void* arg);
  static void on_timer(evutil_socket_t fd, short what, void* arg);
  void handle(int side, short what);
  // Moves bytes until nothing more can move; closes when done or broken.
  void pump();
  // Writes what |to| holds; false when the side failed.
  bool flush(End& to);
  // Reads from |from| for |to| while there is room; false when a side failed.
  bool relay(End& from, End& to, uint64_t& moved, bool& progress);
  void close(const char* why);

  EventLoop& loop_;
  End end_[2];
  event timer_;
  const timeval* idle_;
  sockaddr_in6 peer_{};
  uint64_t moved_[2] = {0, 0};  // bytes written to a, to b
  bool pumping_ = false;
  bool again_ = false;
  bool closed_ = false;
};

}  // namespace proxy
