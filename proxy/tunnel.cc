// SPDX-License-Identifier: MIT
#include "proxy/tunnel.h"

#include <sys/uio.h>

#include <cerrno>
#include <cstring>

#include "proxy/base/log.h"
#include "proxy/event_loop.h"

namespace proxy {
namespace {

// Reads per side and per turn of the event loop, so one busy tunnel does not starve the others.
constexpr int kReadsPerTurn = 16;
constexpr int kMaxIov = 16;

bool again(int err) {
  return err == EAGAIN || err == EWOULDBLOCK;
}

}  // namespace

Tunnel::Tunnel(EventLoop& loop, io::Transport&& a, io::Transport&& b, const sockaddr* peer,
               socklen_t peer_len, const timeval* idle)
    : loop_(loop), idle_(idle) {
  end_[0].transport = std::move(a);
  end_[1].transport = std::move(b);
  for (End& e : end_) e.out.reset(evbuffer_new());
  if (peer_len > 0 && static_cast<size_t>(peer_len) <= sizeof peer_)
    memcpy(&peer_, peer, peer_len);
  else
    peer_.sin6_family = AF_UNIX;
  loop_.add_connection(this);
}

Tunnel::~Tunnel() {
  loop_.remove_connection(this);
}

void Tunnel::queue_to_a(const char* data, size_t len) {
  if (len > 0) evbuffer_add(end_[0].out.get(), data, len);
}

void Tunnel::queue_to_b(const char* data, size_t len) {
  if (len > 0) evbuffer_add(end_[1].out.get(), data, len);
}

void Tunnel::start() {
  for (End& e : end_)
    event_assign(&e.ev, loop_.base(), e.transport.fd(),
                 EV_READ | EV_WRITE | EV_CLOSED | EV_ET | EV_PERSIST, on_event, this);
  for (End& e : end_) event_add(&e.ev, nullptr);
  evtimer_assign(&timer_, loop_.base(), on_timer, this);
  event_add(&timer_, idle_);
  // Both sides may hold bytes already (in the kernel, or decrypted inside OpenSSL) that no new
  // edge will announce: the first pump reads until each says EAGAIN.
  pump();
}

void Tunnel::on_event(evutil_socket_t fd, short what, void* arg) {
  auto* t = static_cast<Tunnel*>(arg);
  t->handle(fd == t->end_[0].transport.fd() ? 0 : 1, what);
}

void Tunnel::on_timer(evutil_socket_t, short, void* arg) {
  auto* t = static_cast<Tunnel*>(arg);
  LOG_DEBUG("tunnel idle for client_idle: closing (%llu bytes to the client, %llu from it)",
            static_cast<unsigned long long>(t->moved_[0]),
            static_cast<unsigned long long>(t->moved_[1]));
  t->close(nullptr);
  delete t;
}

void Tunnel::handle(int side, short what) {
  End& e = end_[side];
  if (what & EV_READ) {
    e.readable = true;
    if (e.write_waits_read) {
      e.writable = true;
      e.write_waits_read = false;
    }
  }
  if (what & EV_CLOSED) e.readable = e.peer_closed = true;
  if (what & EV_WRITE) {
    e.writable = true;
    if (e.read_waits_write) {
      e.readable = true;
      e.read_waits_write = false;
    }
  }
  pump();
}

bool Tunnel::flush(End& to) {
  evbuffer* out = to.out.get();
  while (to.writable && evbuffer_get_length(out) > 0) {
    evbuffer_iovec vec[kMaxIov];
    iovec iov[kMaxIov];
    const int count = evbuffer_peek(out, -1, nullptr, vec, kMaxIov);
    const int used = count < kMaxIov ? count : kMaxIov;
    for (int i = 0; i < used; ++i) iov[i] = {vec[i].iov_base, vec[i].iov_len};
    const ssize_t n = to.transport.writev(iov, used);
    if (n > 0) {
      evbuffer_drain(out, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && again(errno)) {
      to.writable = false;
      to.write_waits_read = to.transport.want() == io::Transport::Want::kRead;
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
  return true;
}

bool Tunnel::relay(End& from, End& to, uint64_t& moved, bool& progress) {
  evbuffer* out = to.out.get();
  char* buf = loop_.scratch();
  for (int reads = 0; from.readable && !from.eof && !to.shut; ++reads) {
    if (!flush(to)) return false;
    const size_t held = evbuffer_get_length(out);
    if (held >= kBufferLimit) return true;  // the other side's write edge resumes us
    if (reads == kReadsPerTurn) {
      event_active(&from.ev, EV_READ, 0);  // more after the other events of this turn
      return true;
    }
    const size_t want = EventLoop::kScratchSize;
    const ssize_t n = from.transport.read(buf, want);
    if (n > 0) {
      progress = true;
      if (static_cast<size_t>(n) < want && from.transport.drained() && !from.peer_closed)
        from.readable = false;
      size_t sent = 0;
      // Straight through when nothing waits before these bytes; the rest is kept, in order.
      if (held == 0 && to.writable) {
        const ssize_t w = to.transport.write(buf, static_cast<size_t>(n));
        if (w > 0) {
          sent = static_cast<size_t>(w);
        } else if (w < 0 && again(errno)) {
          to.writable = false;
          to.write_waits_read = to.transport.want() == io::Transport::Want::kRead;
        } else if (w < 0 && errno != EINTR) {
          return false;
        }
      }
      if (sent < static_cast<size_t>(n) && evbuffer_add(out, buf + sent, n - sent) != 0)
        return false;
      moved += static_cast<uint64_t>(n);
      continue;
    }
    if (n == 0) {
      from.eof = true;
      progress = true;
      return true;
    }
    if (again(errno)) {
      from.readable = false;
      from.read_waits_write = from.transport.want() == io::Transport::Want::kWrite;
      return true;
    }
    if (errno == EINTR) continue;
    return false;
  }
  return flush(to);
}

void Tunnel::pump() {
  if (closed_) return;
  bool progress = false;
  for (int side = 0; side < 2; ++side) {
    End& from = end_[side];
    End& to = end_[1 - side];
    if (!relay(from, to, moved_[1 - side], progress)) {
      close("a side failed");
      break;
    }
    // One side ended its stream: the other learns it once the bytes before the end are out.
    if (from.eof && !to.shut && evbuffer_get_length(to.out.get()) == 0) {
      to.transport.shutdown_write();
      to.shut = true;
    }
  }
  if (!closed_ && end_[0].shut && end_[1].shut) close(nullptr);
  if (closed_) {
    delete this;
    return;
  }
  if (progress) event_add(&timer_, idle_);
}

void Tunnel::close(const char* why) {
  if (closed_) return;
  closed_ = true;
  if (why)
    LOG_DEBUG("tunnel closed: %s (%llu bytes to the client, %llu from it)", why,
              static_cast<unsigned long long>(moved_[0]),
              static_cast<unsigned long long>(moved_[1]));
  for (End& e : end_) {
    event_del(&e.ev);
    e.transport.close();
  }
  event_del(&timer_);
  loop_.release_connection(reinterpret_cast<const sockaddr*>(&peer_));
}

}  // namespace proxy
