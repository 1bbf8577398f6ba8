// SPDX-License-Identifier: MIT
#include "proxy/loop_waker.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

#include "proxy/event_loop.h"

namespace proxy {

WakeQueue::WakeQueue(event_base* base) {
  fd_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!fd_) return;
  base::EventPtr ev(event_new(base, fd_.get(), EV_READ | EV_PERSIST, on_event, this));
  if (ev && event_add(ev.get(), nullptr) == 0) event_ = std::move(ev);
}

WakeQueue::~WakeQueue() {
  // Wakers outlive nothing of ours: each cancels itself on destruction (same thread).
  event_.reset();
}

void WakeQueue::post(LoopWaker* w) {
  bool signal = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (w->queued_) return;  // coalesced with the wake already due
    w->queued_ = true;
    w->next_ = nullptr;
    w->prev_ = tail_;
    if (tail_)
      tail_->next_ = w;
    else
      head_ = w;
    tail_ = w;
    ++due_;
    if (!signalled_) signal = signalled_ = true;
  }
  if (signal) {
    const uint64_t one = 1;
    ssize_t n = ::write(fd_.get(), &one, sizeof one);
    (void)n;  // EAGAIN only when the counter is full: a wake is pending anyway
  }
}

void WakeQueue::cancel(LoopWaker* w) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!w->queued_) return;
  if (w->prev_)
    w->prev_->next_ = w->next_;
  else
    head_ = w->next_;
  if (w->next_)
    w->next_->prev_ = w->prev_;
  else
    tail_ = w->prev_;
  w->next_ = w->prev_ = nullptr;
  w->queued_ = false;
  --due_;
}

void WakeQueue::on_event(evutil_socket_t fd, short, void* arg) {
  uint64_t count;
  ssize_t n = ::read(fd, &count, sizeof count);
  (void)n;
  static_cast<WakeQueue*>(arg)->run_due();
}

void WakeQueue::run_due() {
  size_t budget;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    signalled_ = false;
    budget = due_;
  }
  // One waker at a time, taken under the lock: a callback may destroy other wakers (they cancel
  // themselves) or post again (that runs on the next turn, so a busy waker cannot starve the
  // loop: only those due when the turn began run now).
  for (; budget > 0; --budget) {
    LoopWaker* w;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      w = head_;
      if (!w) return;
      head_ = w->next_;
      if (head_)
        head_->prev_ = nullptr;
      else
        tail_ = nullptr;
      w->next_ = w->prev_ = nullptr;
      w->queued_ = false;
      --due_;
    }
    w->callback_(w->arg_);  // may destroy w
  }
  bool signal = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (due_ > 0 && !signalled_) signal = signalled_ = true;
  }
  if (signal) {
    const uint64_t one = 1;
    ssize_t n = ::write(fd_.get(), &one, sizeof one);
    (void)n;
  }
}

LoopWaker::LoopWaker(EventLoop& loop, Callback callback, void* arg)
    : LoopWaker(loop.wake_queue(), callback, arg) {}

LoopWaker::LoopWaker(WakeQueue& queue, Callback callback, void* arg)
    : queue_(queue), callback_(callback), arg_(arg) {}

LoopWaker::~LoopWaker() {
  queue_.cancel(this);
}

void LoopWaker::fill_progress() {
  queue_.post(this);
}

}  // namespace proxy

namespace proxy {

// Here rather than in event_loop.cc: the wake queue is this file's business.
WakeQueue& EventLoop::wake_queue() {
  if (!wake_queue_) wake_queue_ = std::make_unique<WakeQueue>(base_.get());
  return *wake_queue_;
}

}  // namespace proxy
