# SPDX-License-Identifier: MIT
"""Serving big files from disk (static roots; the same machinery serves X-Accel targets): a 1 GiB
file arrives byte-exact over HTTP/1.1 (sendfile), HTTPS and HTTP/2, and a file that changes size
while it is being sent never gives a response longer or shorter than its Content-Length: the
connection is cut and the event logged."""
import os
import subprocess
import time

import pytest

import ghtest
import tlsutil
from h2raw import h2c_supported

GIB = 1 << 30
MIB = 1 << 20


def _make_big(path):
    """1 GiB, sparse, with distinct data at the start, the middle and the end (so a byte out of
    place changes the hash). Returns its sha256, hashed by sha256sum (streaming, fast)."""
    with open(path, "wb") as f:
        f.truncate(GIB)
        for at in (0, GIB // 2 + 12345, GIB - MIB):
            f.seek(at)
            f.write(os.urandom(MIB))
    out = subprocess.run(["sha256sum", path], capture_output=True, check=True, text=True)
    return out.stdout.split()[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from conftest import _Factories
    tmp = tmp_path_factory.mktemp("files")
    root = tmp / "root"
    (root / "f").mkdir(parents=True)
    digest = _make_big(str(root / "f" / "big.bin"))
    certs = tlsutil.Certs(str(tmp))
    f = _Factories(tmp)
    try:
        backend = f.backend()
        cfg = tlsutil.tls_stack_config(f, backend, certs, rules=[
            {"name": "files", "match": {"path_prefix": "/f/"}, "static": {"root": str(root)}},
            {"name": "default", "pool": "app"}])
        gh = f.gatehouse(cfg)
    except BaseException:
        f.teardown()
        raise
    gh.root, gh.digest, gh.certs = root, digest, certs
    yield gh
    f.teardown()


def _curl_sha256(*args):
    """curl's body piped into sha256sum: (digest, curl's exit code, its stderr)."""
    curl = subprocess.Popen(["curl", "-sS", "--noproxy", "*", "--max-time", "120", "-o", "-",
                             *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ghtest.clean_env())
    sha = subprocess.run(["sha256sum"], stdin=curl.stdout, capture_output=True, text=True,
                         timeout=150)
    curl.stdout.close()
    _, err = curl.communicate(timeout=30)
    return sha.stdout.split()[0], curl.returncode, err


def test_a_1gib_file_arrives_whole_over_http1(files):
    digest, rc, _ = _curl_sha256("--http1.1", files.url("/f/big.bin"))
    assert rc == 0 and digest == files.digest


def test_a_1gib_file_arrives_whole_over_https(files):
    host, port = tlsutil.https_addr(files)
    digest, rc, _ = _curl_sha256("--http1.1", "--cacert", files.certs.default_crt, "--resolve",
                                 "localhost:%d:%s" % (port, host),
                                 "https://localhost:%d/f/big.bin" % port)
    assert rc == 0 and digest == files.digest


def test_a_1gib_file_arrives_whole_over_http2(files):
    if not h2c_supported(files):
        pytest.skip("no h2c in this build")
    digest, rc, _ = _curl_sha256("--http2-prior-knowledge", files.url("/f/big.bin"))
    assert rc == 0 and digest == files.digest


def _slow_download(gh, name, change):
    """Starts a GET of |name| on a connection with a small receive buffer, reads the head and
    a little of the body, calls change(path), then reads on: returns (Content-Length, bytes got,
    closed before the end)."""
    c = gh.connect(rcvbuf=32 * 1024)
    try:
        c.send(ghtest.build("GET", "/f/" + name))
        _, status, _, headers, _ = c.head()
        assert status == 200
        length = int(dict((k.lower(), v) for k, v in headers)["content-length"])
        got = len(c.buf)
        c.buf.clear()
        while got < MIB:
            data = c.sock.recv(65536)
            assert data
            got += len(data)
        change(str(gh.root / "f" / name))
        c.sock.settimeout(20)
        while True:
            try:
                data = c.sock.recv(1 << 20)
            except (ConnectionResetError, BrokenPipeError):
                break
            if not data:
                break
            got += len(data)
            if got >= length:
                # All announced bytes came: the connection must close rather than go on.
                assert c.closed_within(5)
                break
        return length, got
    finally:
        c.close()


def _write_file(path, size):
    with open(path, "wb") as f:
        f.truncate(size)
        f.write(os.urandom(4096))


def test_a_file_that_shrinks_while_sent_cuts_the_connection(files):
    path = str(files.root / "f" / "shrinks.bin")
    _write_file(path, 64 * MIB)
    length, got = _slow_download(files, "shrinks.bin", lambda p: os.truncate(p, 8 * MIB))
    assert length == 64 * MIB and got < length
    assert ghtest.wait_for(lambda: any("shorter than announced" in l or "changed size" in l
                                       for l in files.stderr_lines))


def test_a_file_that_grows_while_sent_cuts_the_connection(files):
    path = str(files.root / "f" / "grows.bin")
    _write_file(path, 16 * MIB)

    def grow(p):
        with open(p, "ab") as f:
            f.write(b"more")

    length, got = _slow_download(files, "grows.bin", grow)
    assert length == 16 * MIB and got < length
    assert ghtest.wait_for(lambda: any("changed size" in l for l in files.stderr_lines))


def test_a_slow_reader_of_a_big_file_keeps_gatehouse_small(files):
    """A client that reads nothing holds no body bytes in gatehouse's memory: the file range
    waits in the file, not in a buffer (RSS stays put while the download stalls)."""
    if ghtest.sanitized_build():
        pytest.skip("RSS is not comparable under ASan")
    worker = next(iter(files.workers()))

    def rss():
        with open("/proc/%d/status" % worker) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    before = rss()
    conns = []
    try:
        for _ in range(8):
            c = files.connect(rcvbuf=16 * 1024)
            c.send(ghtest.build("GET", "/f/big.bin"))
            conns.append(c)
        time.sleep(0.5)  # let the writes fill the sockets and stall (no wait on a result)
        assert rss() - before < 16 * MIB
    finally:
        for c in conns:
            c.close()


def _file_bytes(gh, first, last):
    with open(str(gh.root / "f" / "big.bin"), "rb") as f:
        f.seek(first)
        return f.read(last - first + 1)


@pytest.mark.parametrize("proto", ["http1", "https", "http2"])
def test_a_range_deep_in_a_big_file_is_exact_on_every_protocol(files, proto):
    first, last = GIB // 2 + 12000, GIB // 2 + 12345 + 70000
    if proto == "https":
        host, port = tlsutil.https_addr(files)
        args = ["--http1.1", "--cacert", files.certs.default_crt, "--resolve",
                "localhost:%d:%s" % (port, host), "https://localhost:%d/f/big.bin" % port]
    elif proto == "http2":
        if not h2c_supported(files):
            pytest.skip("no h2c in this build")
        args = ["--http2-prior-knowledge", files.url("/f/big.bin")]
    else:
        args = ["--http1.1", files.url("/f/big.bin")]
    out = ghtest.curl("-r", "%d-%d" % (first, last), "-D", "-", *args)
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    assert out.returncode == 0 and b" 206" in head.split(b"\r\n")[0]
    assert body == _file_bytes(files, first, last)
