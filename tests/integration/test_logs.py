# SPDX-License-Identifier: MIT
"""The access log and the error log as an operator reads them: the size field is the body bytes
sent (nginx's $body_bytes_sent), a refused request is logged with its request line as received
(escaped as nginx does), error lines carry the request's context, one failed connect is one
warning, and `access_log: /dev/stdout` with `> log 2>&1` loses no line."""
import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest

import ghtest
from ghtest import build, request, wait_for

COMBINED = re.compile(rb'^(\S+) - - \[[^\]]+\] "((?:[^"\\]|\\x[0-9A-F]{2})*)" (\d{3}) (\d+) '
                      rb'"((?:[^"\\]|\\x[0-9A-F]{2})*)" "((?:[^"\\]|\\x[0-9A-F]{2})*)"$')
ERROR_LINE = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[(error|warn|info|debug)\] "
                        rb"(main|worker|gatehouse)\[\d+\]: .*$")


def read_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().split(b"\n")[:-1]
    except FileNotFoundError:
        return []


def wait_lines(path, count, pred=lambda line: True):
    """The lines of |path| matching |pred| once there are |count| of them (or after the wait)."""
    found = wait_for(lambda: len([l for l in read_lines(path) if pred(l)]) >= count)
    del found
    return [l for l in read_lines(path) if pred(l)]


def combined(line):
    m = COMBINED.match(line)
    assert m, line
    return m


@pytest.fixture
def logged(factory, backend, tmp_path):
    """gatehouse with a combined access log, client_header short enough to test its 408."""
    path = str(tmp_path / "access.log")
    gh = factory.gatehouse(factory.config([backend.address], workers=1,
                                          timeouts={"client_header": "1s"},
                                          access_log={"path": path, "format": "combined"}))
    gh.access_log = path
    return gh


def raw(gh, data, wait_close=True):
    """Sends |data| on a new connection; returns what came back before the close."""
    c = gh.connect()
    try:
        c.send(data)
        out = bytearray()
        deadline = time.monotonic() + ghtest.TIMEOUT
        while wait_close and time.monotonic() < deadline:
            try:
                chunk = c.sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            out += chunk
        return bytes(out)
    finally:
        c.close()


# ------------------------------------------------------------------------------ the size field

def test_the_size_field_is_the_body_bytes_sent(logged):
    r = request(logged, target="/bytes/312")
    assert r.status == 200 and len(r.body) == 312
    r = request(logged, method="HEAD", target="/bytes/312")
    assert r.status == 200 and r.body == b""
    r = request(logged, target="/nothing/here", host="\u00e9.example".encode().decode("latin-1"))
    assert r.status == 400  # an invalid Host: a local answer with a short text body
    lines = wait_lines(logged.access_log, 3)
    assert len(lines) == 3, lines
    get, head, refused = (combined(l) for l in lines)
    assert get.group(2) == b"GET /bytes/312 HTTP/1.1" and get.group(4) == b"312"
    assert head.group(2) == b"HEAD /bytes/312 HTTP/1.1" and head.group(4) == b"0"
    assert refused.group(3) == b"400" and int(refused.group(4)) == len(r.body)


def test_json_has_the_body_bytes_and_the_total_beside_them(factory, backend, tmp_path):
    path = str(tmp_path / "access.json")
    gh = factory.gatehouse(factory.config([backend.address], workers=1,
                                          access_log={"path": path, "format": "json"}))
    c = gh.connect()
    c.send(build(target="/bytes/312"))
    r = c.response()
    assert r.status == 200
    c.send(b'GET /a"b\\c HTTP/1.1\r\nHost: x\r\nNo colon\r\n\r\n')
    assert c.response().status == 400
    c.close()
    lines = wait_lines(path, 2)
    assert len(lines) == 2, lines
    ok, bad = (json.loads(l) for l in lines)  # valid JSON whatever the client sent
    assert ok["body_bytes_sent"] == 312
    assert ok["bytes_sent"] == 312 + len(r.raw_head) + 2  # raw_head lacks the final CRLF
    assert ok["request"] == "GET /bytes/312 HTTP/1.1"
    assert bad["status"] == 400
    assert bad["request"] == 'GET /a"b\\c HTTP/1.1'


# ------------------------------------------------------------------ refused request lines

@pytest.mark.parametrize("sent,status,logged_line", [
    (b"GET /a HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400, b"GET /a HTTP/1.1"),
    (b"GET /a HTTP/1.1\r\nHost: x\r\nX: 1\r\nX : 2\r\n\r\n", 400, b"GET /a HTTP/1.1"),
    (b"GET / HTTP/1.2x\r\nHost: x\r\n\r\n", 400, b"GET / HTTP/1.2x"),
    (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, b"GET / HTTP/2.0"),
    (b"GET /x/%2e%2e/%2e%2e/up HTTP/1.1\r\nHost: x\r\n\r\n", 400,
     b"GET /x/%2e%2e/%2e%2e/up HTTP/1.1"),
    (b"GET /%41%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400, b"GET /%41%zz HTTP/1.1"),
    (b"GET /a/./b%41 HTTP/1.1\r\nHost: a b\r\n\r\n", 400, b"GET /a/./b%41 HTTP/1.1"),
    (b'GET /q"\x01\xff HTTP/1.1\r\nHost: x\r\n\r\n', 400,
     b"GET /q\\x22\\x01\\xFF HTTP/1.1"),
    # Names no HTTP version: closed without an answer (test_rejections.py), logged all the same.
    (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03 \r\n\r\n", None,
     b"\\x16\\x03\\x01\\x00\\xA5\\x01\\x00\\x00\\xA1\\x03\\x03 "),
    (b"\r\n\r\nPOST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
     400, b"POST /form HTTP/1.1"),
], ids=["bad-header", "space-before-colon", "bad-version", "http2-version", "climbs-root",
        "bad-escape", "bad-host", "control-bytes", "binary", "repeated-length"])
def test_a_refused_request_is_logged_with_its_line_as_received(logged, sent, status, logged_line):
    got = raw(logged, sent)
    if status is None:
        assert got == b"", got
        status = 400
    else:
        assert got.startswith(b"HTTP/1.1 %d " % status), got
    lines = wait_lines(logged.access_log, 1)
    assert len(lines) == 1, lines
    m = combined(lines[0])
    assert m.group(2) == logged_line
    assert m.group(3) == b"%d" % status


def test_a_request_line_too_long_is_logged_cut(logged):
    target = b"/" + b"a" * 10000  # over max_request_line (8 KiB), within the head limit
    got = raw(logged, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert got.startswith(b"HTTP/1.1 414 "), got[:100]
    lines = wait_lines(logged.access_log, 1)
    m = combined(lines[0])
    assert m.group(3) == b"414"
    assert m.group(2).startswith(b"GET /aaaa") and m.group(2).endswith(b"...")
    assert 1000 <= len(m.group(2)) <= 1100
    assert len(lines[0]) < 2000


def test_a_head_cut_by_client_header_logs_what_came_of_the_line(logged):
    c = logged.connect()
    c.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n")  # the head never ends
    r = c.response()
    assert r.status == 408
    c.close()
    lines = wait_lines(logged.access_log, 1)
    m = combined(lines[0])
    assert (m.group(2), m.group(3)) == (b"GET /slow HTTP/1.1", b"408")

    c = logged.connect()
    c.send(b"GET /half-a-li")  # not even the request line
    assert c.response().status == 408
    c.close()
    lines = wait_lines(logged.access_log, 2)
    assert combined(lines[1]).group(2) == b"GET /half-a-li"


# ------------------------------------------------------------------------------- error lines

def test_a_refused_connect_is_one_warning_with_the_request_context(factory, tmp_path):
    port = ghtest.free_port()
    cfg = factory.config(["127.0.0.1:%d" % port], workers=1)
    cfg["pools"]["app"]["retries"] = 0
    cfg["rules"] = [{"name": "to-app", "pool": "app"}]
    gh = factory.gatehouse(cfg)
    r = request(gh, target="/some/where?x=1", host="shop.example")
    assert r.status == 502

    def lines():
        return [l for l in gh.stderr_lines if "/some/where" in l]
    wait_for(lambda: lines())
    time.sleep(0.2)  # any second line about it would be written by now
    assert len(lines()) == 1, gh.stderr()
    line = lines()[0]
    assert "[warn]" in line
    assert re.search(
        r'backend connect failed: Connection refused, client: 127\.0\.0\.1, '
        r'request: "GET /some/where\?x=1 HTTP/1\.1", host: "shop\.example", rule: "to-app", '
        r'pool: "app", upstream: "127\.0\.0\.1:%d", request_id: \d+$' % port, line), line


def test_a_refused_request_names_its_client_and_line_in_the_error_log(factory, backend):
    gh = factory.gatehouse(factory.config([backend.address], workers=1))
    assert raw(gh, b"GET /x HTTP/1.1\r\nHost: x\r\nBad\r\n\r\n").startswith(b"HTTP/1.1 400")
    wait_for(lambda: any('request: "GET /x HTTP/1.1"' in l for l in gh.stderr_lines))
    line = [l for l in gh.stderr_lines if 'request: "GET /x HTTP/1.1"' in l]
    assert len(line) == 1, gh.stderr()
    assert re.search(r'\[info\] worker\[\d+\]: 400 .*, client: 127\.0\.0\.1, '
                     r'request: "GET /x HTTP/1\.1", request_id: \d+$', line[0]), line[0]


# --------------------------------------------------------------- access_log: /dev/stdout

@pytest.mark.parametrize("log_path", ["/dev/stdout", ghtest.Raw('"-"')])
def test_stdout_and_stderr_to_one_file_lose_no_line(factory, backend, tmp_path, log_path):
    """`gatehouse -c FILE > log 2>&1` with the access log on stdout: every access line and every
    error line is in the file, whole."""
    dead = ghtest.free_port()
    cfg = factory.config([backend.address], workers=1,
                         access_log={"path": log_path, "format": "combined"})
    cfg["pools"]["dead"] = {"servers": ["127.0.0.1:%d" % dead], "retries": 0}
    cfg["rules"] = [{"name": "dead", "match": {"path_prefix": "/dead/"}, "pool": "dead"},
                    {"name": "default", "pool": "app"}]
    conf = str(tmp_path / "gatehouse.yaml")
    with open(conf, "w") as f:
        f.write(ghtest.to_yaml(cfg) + "\n")
    out = str(tmp_path / "log")
    with open(out, "wb") as f:  # truncating, as the shell's `>` does: no O_APPEND
        proc = subprocess.Popen([ghtest.gatehouse_bin(), "-c", conf], stdout=f,
                                stderr=subprocess.STDOUT, env=ghtest.clean_env(),
                                preexec_fn=ghtest._die_with_parent)
    try:
        def address():
            for l in read_lines(out):
                m = re.search(rb"listening: \S+ (\S+)", l)
                if m:
                    return m.group(1).decode()
            return None
        addr = wait_for(address, ghtest.START_TIMEOUT)
        assert addr, read_lines(out)
        hp = ghtest.hostport(addr)
        n = 20
        for i in range(n):
            assert request(hp, target="/bytes/%d" % (100 + i)).status == 200
            assert request(hp, target="/dead/%d" % i).status == 502  # one warning each
            assert raw_to(hp, b"GET /bad%d HTTP/1.1\r\nHost: x\r\nNo colon\r\n\r\n" % i)

        def complete():
            lines = read_lines(out)
            return (len([l for l in lines if COMBINED.match(l)]) >= 3 * n and
                    len([l for l in lines if b"backend connect failed" in l]) >= n)
        wait_for(complete)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    lines = read_lines(out)
    for l in lines:
        assert COMBINED.match(l) or ERROR_LINE.match(l), l  # no line overwritten in part
    access = [combined(l) for l in lines if COMBINED.match(l)]
    for i in range(n):
        for want in (b"GET /bytes/%d HTTP/1.1" % (100 + i), b"GET /dead/%d HTTP/1.1" % i,
                     b"GET /bad%d HTTP/1.1" % i):
            assert len([m for m in access if m.group(2) == want]) == 1, (want, lines)
        assert len([l for l in lines if b'request: "GET /dead/%d HTTP/1.1"' % i in l]) == 1
        assert len([l for l in lines if b'request: "GET /bad%d HTTP/1.1"' % i in l
                    and ERROR_LINE.match(l)]) == 1
    assert any(b"stopping" in l for l in lines)


def raw_to(hp, data):
    c = ghtest.connect(hp)
    try:
        c.send(data)
        return c.response().status == 400
    finally:
        c.close()


def test_usr1_reopens_a_real_file(logged):
    assert request(logged, target="/bytes/1").status == 200
    wait_lines(logged.access_log, 1)
    os.rename(logged.access_log, logged.access_log + ".1")
    os.kill(logged.pid, signal.SIGUSR1)  # the main process passes it on to its workers

    def reopened():
        request(logged, target="/bytes/2")
        return os.path.exists(logged.access_log)
    assert wait_for(reopened)
    assert len(read_lines(logged.access_log + ".1")) >= 1


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a worker as user: nobody")
def test_a_log_created_as_root_for_a_worker_as_nobody_can_be_reopened_by_it(factory, backend):
    """The worker opens the log as root, then runs as `user:`; at USR1 it reopens the file as
    that user, which fails on a root-owned 0644 file (a log not moved away, copytruncate)."""
    import pwd
    import shutil
    import tempfile
    nobody = pwd.getpwnam("nobody")
    d = tempfile.mkdtemp(prefix="gatehouse-log-")  # under /tmp: nobody can reach it
    try:
        os.chmod(d, 0o777)
        path = os.path.join(d, "access.log")
        gh = factory.gatehouse(factory.config([backend.address], workers=1, user="nobody",
                                              buffering={"temp_path": d},
                                              access_log={"path": path}))
        assert request(gh, target="/bytes/1").status == 200
        wait_lines(path, 1)
        assert os.stat(path).st_uid == nobody.pw_uid
        os.kill(gh.pid, signal.SIGUSR1)
        assert wait_for(lambda: request(gh, target="/bytes/2").status == 200 and
                        len(read_lines(path)) >= 2)
        assert "cannot reopen the access log" not in gh.stderr()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_a_refused_http2_stream_is_logged_as_http2_with_its_path(logged):
    import h2raw
    if not h2raw.h2c_supported(logged):
        pytest.skip("no h2c on the plain listener")
    c = h2raw.Conn(logged.hostport)
    c.send(h2raw.headers(1, h2raw.request_block("/h2/%2e%2e/x?q", authority="a.example",
                                                extra=[("host", "b.example")])))
    f, _ = c.frames_until(lambda f: f[0] == h2raw.HEADERS and f[2] == 1)
    assert f is not None
    c.close()
    lines = wait_lines(logged.access_log, 1, lambda l: b"HTTP/2.0" in l)
    m = combined(lines[0])
    assert (m.group(2), m.group(3)) == (b"GET /h2/%2e%2e/x?q HTTP/2.0", b"400")
    assert int(m.group(4)) > 0  # the short text body, in DATA
