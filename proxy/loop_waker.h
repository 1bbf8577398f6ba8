// SPDX-License-Identifier: MIT
// Waking an event loop from another thread: a cache fill (on whatever thread reads the backend)
// tells the readers following it, each on its own loop, that more of the body is there.
#pragma once

#include <event2/event.h>

#include <cstddef>
#include <mutex>

#include "cache/object.h"
#include "proxy/base/event_handles.h"
#include "proxy/base/unique_fd.h"

namespace proxy {

class EventLoop;
class LoopWaker;

// The wakes posted to one event loop: an eventfd the loop watches and a list of the wakers
// whose callbacks are due, under a small leaf mutex (held for a few pointer moves, never while a
// callback runs). Made on the loop's thread; lives as long as the loop (EventLoop::wake_queue()).
class WakeQueue {
 public:
  explicit WakeQueue(event_base* base);
  ~WakeQueue();
  WakeQueue(const WakeQueue&) = delete;
  WakeQueue& operator=(const WakeQueue&) = delete;

  // False if the eventfd or its event could not be made (out of descriptors): wakes then never
  // arrive, and the caller must not rely on them.
  bool ok() const { return event_ != nullptr; }

 private:
  friend class LoopWaker;
  static void on_event(evutil_socket_t fd, short what, void* arg);
  void post(LoopWaker* w);    // any thread
  void cancel(LoopWaker* w);  // the loop's thread
  void run_due();

  base::UniqueFd fd_;
  base::EventPtr event_;
  std::mutex mutex_;
  LoopWaker* head_ = nullptr;  // guarded by mutex_: due wakers, in posting order
  LoopWaker* tail_ = nullptr;
  size_t due_ = 0;
  bool signalled_ = false;  // the eventfd holds a wake the loop has not read yet
};

// A FillListener that runs |callback(arg)| on its loop's thread soon after fill_progress() was
// called from any thread (even with another object's lock held: it only takes the queue's leaf
// mutex). Several wakes before the callback runs make one call. Made and destroyed on the loop's
// thread; destroying it with a wake in flight cancels the wake. It must be unsubscribed from
// every object before it goes (the object's lock then guarantees no fill_progress() is running).
class LoopWaker final : public cache::FillListener {
 public:
  using Callback = void (*)(void*);
  LoopWaker(EventLoop& loop, Callback callback, void* arg);
  LoopWaker(WakeQueue& queue, Callback callback, void* arg);
  ~LoopWaker();
  LoopWaker(const LoopWaker&) = delete;
  LoopWaker& operator=(const LoopWaker&) = delete;

  void fill_progress() override;

 private:
  friend class WakeQueue;
  WakeQueue& queue_;
  Callback callback_;
  void* arg_;
  // Guarded by queue_.mutex_.
  LoopWaker* next_ = nullptr;
  LoopWaker* prev_ = nullptr;
  bool queued_ = false;
};

}  // namespace proxy
