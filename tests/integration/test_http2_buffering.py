# SPDX-License-Identifier: MIT
"""HTTP/2 clients never hold a backend either: a buffered response is read as fast as the backend
sends it and spills by the memory it holds, whatever the client's window and pace; and
`max_temp_file` bounds one client connection (all its streams together), not only each response."""
import hashlib
import os
import time

import h2raw
from ghtest import backend_mod, wait_for

MiB = 1 << 20


# A steady client gives window back once half of the default 64 KiB is consumed (as nghttp2 and
# python-h2 do), for the stream and the connection.
GIVE_BACK = 32 * 1024


class Download:
    """One response stream on a raw h2c connection, read at the pace the test chooses."""

    def __init__(self, conn, stream, path):
        self.conn, self.stream = conn, stream
        self.sha = hashlib.sha256()
        self.length = 0
        self.unacked = 0
        self.ended = False
        conn.send(h2raw.headers(stream, h2raw.request_block(path)))


def take(conn, downloads, n_frames=1, timeout=10.0, give_back=GIVE_BACK):
    """Reads up to n_frames DATA frames for |downloads|, giving window back each |give_back|
    bytes; returns False if the connection ended."""
    by_id = {d.stream: d for d in downloads}
    conn.unacked = getattr(conn, "unacked", 0)
    got = 0
    while got < n_frames and not all(d.ended for d in downloads):
        f = conn.read_frame(timeout)
        if f is None:
            return False
        ftype, flags, stream, payload = f
        if ftype == h2raw.GOAWAY or (ftype == h2raw.RST_STREAM and stream in by_id):
            raise AssertionError("server ended the stream or connection: %r" % (f,))
        if ftype == h2raw.SETTINGS and not flags & h2raw.ACK:
            conn.send(h2raw.settings(ack=True))
        if stream not in by_id:
            continue
        d = by_id[stream]
        if ftype == h2raw.HEADERS and flags & h2raw.END_STREAM:
            d.ended = True
        if ftype != h2raw.DATA:
            continue
        got += 1
        d.sha.update(payload)
        d.length += len(payload)
        if flags & h2raw.END_STREAM:
            d.ended = True
        d.unacked += len(payload)
        conn.unacked += len(payload)
        if conn.unacked >= give_back:
            conn.send(h2raw.window_update(0, conn.unacked))
            conn.unacked = 0
        if d.unacked >= give_back and not d.ended:
            conn.send(h2raw.window_update(stream, d.unacked))
            d.unacked = 0
    return True


def gatehouse(factory, backend, **buffering):
    buffering.setdefault("temp_path", str(factory.tmpdir))
    gh = factory.gatehouse(factory.config([backend.address], workers=1, buffering=buffering))
    assert h2raw.h2c_supported(gh)
    return gh


def test_a_steady_reader_with_the_default_window_does_not_hold_the_backend(factory, backend):
    n = 48 * MiB
    gh = gatehouse(factory, backend, response_memory="256KiB")
    conn = h2raw.Conn(gh.hostport)  # default windows: 64 KiB for the stream and the connection
    d = Download(conn, 1, "/bytes/%d?tag=h2steady" % n)
    # About 1.3 MB/s, as the report's client: a 16 KiB frame every 12 ms.
    deadline = time.monotonic() + 15
    finished = None
    while time.monotonic() < deadline:
        for _ in range(8):
            assert take(conn, [d])
            time.sleep(0.012)
        e = backend.entry("tag=h2steady")
        if e and e["finished"]:
            finished = time.monotonic()
            break
    assert finished, "backend still sending after 15 s: %r (client read %d)" % (
        backend.entry("tag=h2steady"), d.length)
    assert d.length < n // 2, "the client read %d bytes before the backend finished" % d.length
    # The rest comes from the temporary file, intact, as fast as the client now reads.
    while not d.ended:
        assert take(conn, [d], n_frames=64), "connection ended at %d bytes" % d.length
    conn.close()
    assert d.length == n and d.sha.hexdigest() == backend_mod.pattern_sha256(n)


def temp_file_bytes(gh, tmpdir):
    """Bytes in the worker's open temporary files (unlinked, so found through /proc)."""
    total = 0
    for pid in gh.workers():
        fd_dir = "/proc/%d/fd" % pid
        for fd in os.listdir(fd_dir):
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
                if target.startswith(str(tmpdir)) and "(deleted)" in target:
                    total += os.stat(os.path.join(fd_dir, fd)).st_size
            except OSError:
                pass
    return total


def settled(read, timeout=20):
    """Waits until read() stops changing for a second; returns its last value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        now = read()
        if now == last:
            return now
        last = now
        time.sleep(1.0)
    return None


def test_max_temp_file_counts_per_connection(factory, backend):
    # Each body well beyond what the kernel's socket buffers between backend and gatehouse can
    # hold (they grow to several MiB on loopback): a backend that finished would mean a read.
    n, streams, limit = 16 * MiB, 4, 1 * MiB
    gh = gatehouse(factory, backend, response_memory="64KiB", max_temp_file="1MiB")
    conn = h2raw.Conn(gh.hostport)
    downloads = [Download(conn, 1 + 2 * i, "/bytes/%d?tag=pc%d&sndbuf=65536" % (n, i))
                 for i in range(streams)]
    # The client reads nothing: each response fills its memory, then the shared file.
    assert wait_for(lambda: all(backend.entry("tag=pc%d" % i) for i in range(streams)), timeout=10)
    held = settled(lambda: temp_file_bytes(gh, factory.tmpdir))
    assert held is not None, "the temporary files never stopped growing"
    assert limit * 3 // 4 <= held <= limit, "%d bytes in temporary files for one connection" % held
    assert not any(backend.entry("tag=pc%d" % i)["finished"] for i in range(streams))
    # Past the limit the backend is read at the client's pace: everything arrives, intact.
    deadline = time.monotonic() + 60
    while not all(d.ended for d in downloads) and time.monotonic() < deadline:
        assert take(conn, downloads, n_frames=64), "connection ended"
    conn.close()
    for d in downloads:
        assert d.ended and d.length == n and d.sha.hexdigest() == backend_mod.pattern_sha256(n)


def test_a_client_giving_window_back_for_every_frame_is_no_flood(factory, backend):
    # Two WINDOW_UPDATEs (stream and connection) for each DATA frame, read as fast as it comes.
    n = 32 * MiB
    gh = gatehouse(factory, backend)
    conn = h2raw.Conn(gh.hostport)
    d = Download(conn, 1, "/bytes/%d" % n)
    while not d.ended:
        assert take(conn, [d], n_frames=64, give_back=1), "connection ended at %d bytes" % d.length
    conn.close()
    assert d.length == n and d.sha.hexdigest() == backend_mod.pattern_sha256(n)
