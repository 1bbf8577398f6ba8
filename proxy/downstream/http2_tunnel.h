// SPDX-License-Identifier: MIT
#pragma once

#include <event2/event_struct.h>
#include <sys/time.h>

#include <cstddef>

#include "proxy/io/transport.h"

namespace proxy {

class EventLoop;
class Http2Stream;

// The backend side of a WebSocket on one HTTP/2 stream (RFC 8441): after the backend's 101, the
// stream's DATA frames are the tunnel. Backend bytes go to the exchange's output, which the stream
// sends as DATA (the client's window is the backpressure: the backend is not read while
// kOutputLimit bytes wait); the client's DATA wait in the exchange's request body and their stream
// window is given back as the backend takes them (so the client can have at most one window in
// flight). The backend's end of stream becomes END_STREAM, the client's a shutdown of the
// backend's write side; a backend failure resets the stream (CONNECT_ERROR, RFC 9113 8.5) and so
// does client_idle with no byte either way (CANCEL). Owned by the stream: deleting it closes the
// backend connection.
class Http2Tunnel {
 public:
  static constexpr size_t kOutputLimit = 64 * 1024;

  Http2Tunnel(Http2Stream& stream, EventLoop& loop, io::Transport&& backend, const timeval* idle);
  ~Http2Tunnel();
  Http2Tunnel(const Http2Tunnel&) = delete;
  Http2Tunnel& operator=(const Http2Tunnel&) = delete;

  // Moves what can move both ways. |from_event|: called from the tunnel's own events, outside the
  // connection's drive(): the stream is then woken for what changed (DATA to send, window to give
  // back).
  void pump(bool from_event);
  // DATA went out: the backend is read again if it had paused for room.
  void output_drained();

 private:
  static void on_event(evutil_socket_t fd, short what, void* arg);
  static void on_timer(evutil_socket_t fd, short what, void* arg);
  void reset(uint32_t code, const char* why);

  Http2Stream& stream_;
  io::Transport backend_;
  event ev_;
  event timer_;
  const timeval* idle_;
  bool readable_ = true;
  bool writable_ = true;
  bool peer_closed_ = false;
  bool paused_ = false;  // the output is full: waiting for the client's window
  bool eof_ = false;     // the backend ended its stream
  bool shut_ = false;    // the backend's write side was shut down (the client ended)
  bool failed_ = false;  // the stream was reset: nothing more moves
};

}  // namespace proxy
