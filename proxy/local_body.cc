// SPDX-License-Identifier: MIT
#include "proxy/local_body.h"

#include "proxy/downstream/downstream.h"
#include "proxy/exchange.h"

namespace proxy {

LocalBody::~LocalBody() {
  // Gone while the exchange still expected its body: at least leave no dangling producer.
  if (ex_ && ex_->producer == this) ex_->producer = nullptr;
}

void LocalBody::attach(Exchange& ex, uint64_t available, bool complete) {
  ex_ = &ex;
  ex.producer = this;
  pos_ = 0;
  available_ = available;
  complete_ = complete;
  started_ = false;
  pumping_ = again_ = false;
}

void LocalBody::detach() {
  if (ex_ && ex_->producer == this) ex_->producer = nullptr;
  ex_ = nullptr;
  released();
}

void LocalBody::progress(uint64_t available, bool complete) {
  if (!ex_) return;
  if (available > available_) available_ = available;
  complete_ = complete_ || complete;
  if (started_) pump(false);
}

void LocalBody::fail(const char* detail) {
  if (!ex_) return;
  Exchange& ex = *ex_;
  ex.aborted = true;
  ex.upstream_done = true;
  ex.error_detail = detail;
  detach();
  ex.downstream->output_ready();
}

void LocalBody::output_drained() {
  if (!ex_) return;
  const bool first = !started_;
  started_ = true;
  // The deliver stage has configured the output by now: its memory limit is the body's window,
  // but these bytes live elsewhere already and are never copied to a temporary file.
  if (first) ex_->out.disable_spill();
  pump(first);
}

void LocalBody::abandon() {
  if (!ex_) return;
  detach();
}

void LocalBody::pump(bool announce) {
  if (pumping_) {
    // The downstream took bytes while we were adding (a nested call): add again after.
    again_ = true;
    return;
  }
  pumping_ = true;
  Exchange& ex = *ex_;
  bool changed = announce;
  do {
    again_ = false;
    while (pos_ < available_) {
      auto added = add(ex, pos_, available_ - pos_);
      if (!added) {
        pumping_ = false;
        fail(added.error().detail);
        return;
      }
      if (*added == 0) break;
      pos_ += *added;
      changed = true;
    }
  } while (again_);
  pumping_ = false;
  if (pos_ == available_ && complete_) {
    if (ex.chunked_out && !ex.out.append("0\r\n\r\n", 5)) {
      fail("cannot buffer the response");
      return;
    }
    ex.upstream_done = true;
    detach();
    changed = true;
  }
  // Last: the downstream may finish and recycle the exchange in there.
  if (changed) ex.downstream->output_ready();
}

}  // namespace proxy
