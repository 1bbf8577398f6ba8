// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

namespace cache {

// A counted reference to a stored object (an intrusive count in the object: no control block
// and 8 bytes per reference, which is what a million cached objects and their index slots
// cost). |T| has add_ref() and release() const (Object's, reached by friendship); the object
// deletes itself when the last reference goes. Thread-safe as shared_ptr is: copies of one
// object may be taken and dropped on any thread, one Ref is not shared between threads.
template <class T>
class Ref {
 public:
  Ref() = default;
  Ref(std::nullptr_t) {}  // NOLINT: a null Ref from nullptr, as shared_ptr
  Ref(const Ref& o) : p_(o.p_) { acquire(); }
  Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  template <class U, class = std::enable_if_t<std::is_convertible_v<U*, T*>>>
  Ref(const Ref<U>& o) : p_(o.get()) {  // NOLINT: a Ref<Derived> is a Ref<const Base>
    acquire();
  }
  template <class U, class = std::enable_if_t<std::is_convertible_v<U*, T*>>>
  Ref(Ref<U>&& o) noexcept : p_(o.leak()) {}  // NOLINT
  ~Ref() { drop(); }

  Ref& operator=(Ref o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }

  // Takes a new reference to |p| (an object already counted elsewhere, or a new one).
  static Ref share(T* p) {
    Ref r;
    r.p_ = p;
    r.acquire();
    return r;
  }

  T* get() const { return p_; }
  T& operator*() const { return *p_; }
  T* operator->() const { return p_; }
  explicit operator bool() const { return p_ != nullptr; }
  void reset() { Ref().swap(*this); }
  void swap(Ref& o) noexcept { std::swap(p_, o.p_); }

  // Gives up the reference without dropping it (for the converting move).
  T* leak() { return std::exchange(p_, nullptr); }

  template <class U>
  bool operator==(const Ref<U>& o) const {
    return p_ == o.get();
  }
  bool operator==(std::nullptr_t) const { return p_ == nullptr; }

 private:
  void acquire() const {
    if (p_) p_->add_ref();
  }
  void drop() {
    if (p_) p_->release();
  }

  T* p_ = nullptr;
};

// A new object of type |T| and its first reference.
template <class T, class... Args>
Ref<T> make_ref(Args&&... args) {
  return Ref<T>::share(new T(std::forward<Args>(args)...));
}

}  // namespace cache
