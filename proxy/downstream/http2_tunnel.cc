// SPDX-License-Identifier: MIT
#include "proxy/downstream/http2_connection.h"
#include "proxy/downstream/http2_stream.h"

namespace proxy {

void Http2Stream::upgrade(io::Transport&& backend, std::string_view) {
  backend.close();
  nghttp2_submit_rst_stream(conn_.session(), NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
}

}  // namespace proxy
