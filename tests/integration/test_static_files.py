# SPDX-License-Identifier: MIT
"""`static: {root: DIR}`: files served straight from disk as nginx's `root` (the whole request
path under DIR), with ETag/Last-Modified, conditional requests, Range (single, multipart) and HEAD,
over HTTP/1.1 and HTTP/2; no byte outside the root, whatever the path's shape."""
import hashlib
import os
import re
import socket

import pytest

import ghtest
from ghtest import curl
from h2raw import h2c_supported

SMALL = b"hello, static world\n"
DATA = bytes((i * 7 + i // 251) & 0xFF for i in range(300 * 1024))  # > FileBody::kCheckAbove
SECRET = b"outside the root: never served\n"


def _sha(b):
    return hashlib.sha256(b).hexdigest()


@pytest.fixture(scope="module")
def static(tmp_path_factory):
    from conftest import _Factories
    tmp = tmp_path_factory.mktemp("static")
    root = tmp / "root"
    (root / "s" / "sub").mkdir(parents=True)
    (root / "s" / "hello.txt").write_bytes(SMALL)
    (root / "s" / "app.css").write_bytes(b"body{}\n")
    (root / "s" / "data.bin").write_bytes(DATA)
    (root / "s" / "sub" / "deep.txt").write_bytes(b"deep\n")
    (root / "s" / "a b.txt").write_bytes(b"spaced\n")
    (tmp / "secret.txt").write_bytes(SECRET)
    os.symlink(str(tmp / "secret.txt"), str(root / "s" / "out"))
    os.symlink("../../secret.txt", str(root / "s" / "out-relative"))
    os.symlink("hello.txt", str(root / "s" / "in"))
    os.mkfifo(str(root / "s" / "fifo"))
    (root / "s" / "locked.txt").write_bytes(b"locked\n")
    os.chmod(str(root / "s" / "locked.txt"), 0)
    f = _Factories(tmp)
    try:
        backend = f.backend()
        cfg = f.config([backend.address], workers=1, rules=[
            {"name": "assets", "match": {"path_prefix": "/s/"}, "static": {"root": str(root)}},
            {"name": "api", "match": {"path_prefix": "/api/"}, "pool": "app"}])
        gh = f.gatehouse(cfg)
    except BaseException:
        f.teardown()
        raise
    gh.root = root
    yield gh
    f.teardown()


def get(gh, target, method="GET", headers=()):
    return ghtest.request(gh, method, target, headers)


def test_a_file_is_served_with_its_type_length_and_validators(static):
    r = get(static, "/s/hello.txt")
    assert r.status == 200 and r.body == SMALL
    assert r.header("content-type") == "text/plain"
    assert r.header("content-length") == str(len(SMALL))
    assert r.header("accept-ranges") == "bytes"
    assert re.fullmatch(r'"[0-9a-f]+-[0-9a-f]+"', r.header("etag"))
    assert r.header("last-modified").endswith(" GMT")
    assert not r.has("age") and not r.has("via")
    assert get(static, "/s/app.css").header("content-type") == "text/css"
    assert get(static, "/s/sub/deep.txt").body == b"deep\n"
    assert get(static, "/s/a%20b.txt").body == b"spaced\n"


def test_head_has_the_length_and_no_body(static):
    r = get(static, "/s/data.bin", method="HEAD")
    assert r.status == 200 and r.body == b""
    assert r.header("content-length") == str(len(DATA))


def test_a_matching_if_none_match_gets_304(static):
    etag = get(static, "/s/hello.txt").header("etag")
    r = get(static, "/s/hello.txt", headers=[("If-None-Match", etag)])
    assert r.status == 304 and r.body == b"" and r.header("etag") == etag
    r = get(static, "/s/hello.txt", headers=[("If-None-Match", '"other"')])
    assert r.status == 200 and r.body == SMALL
    lm = get(static, "/s/hello.txt").header("last-modified")
    assert get(static, "/s/hello.txt", headers=[("If-Modified-Since", lm)]).status == 304
    assert get(static, "/s/hello.txt", headers=[("If-Match", '"other"')]).status == 412


def test_a_range_gets_206_and_just_those_bytes(static):
    r = get(static, "/s/data.bin", headers=[("Range", "bytes=1000-1999")])
    assert r.status == 206 and r.body == DATA[1000:2000]
    assert r.header("content-range") == "bytes 1000-1999/%d" % len(DATA)
    r = get(static, "/s/data.bin", headers=[("Range", "bytes=-100")])
    assert r.status == 206 and r.body == DATA[-100:]
    r = get(static, "/s/data.bin", headers=[("Range", "bytes=%d-" % (len(DATA) + 5))])
    assert r.status == 416 and r.header("content-range") == "bytes */%d" % len(DATA)


def test_if_range_applies_the_range_only_to_the_same_file(static):
    etag = get(static, "/s/data.bin", method="HEAD").header("etag")
    r = get(static, "/s/data.bin", headers=[("Range", "bytes=10-19"), ("If-Range", etag)])
    assert r.status == 206 and r.body == DATA[10:20]
    r = get(static, "/s/data.bin", headers=[("Range", "bytes=10-19"), ("If-Range", '"old"')])
    assert r.status == 200 and r.body == DATA


def test_several_ranges_come_as_multipart_byteranges(static):
    r = get(static, "/s/data.bin", headers=[("Range", "bytes=0-9,200000-200009,-5")])
    assert r.status == 206
    m = re.fullmatch(r"multipart/byteranges; boundary=(\S+)", r.header("content-type"))
    assert m
    assert int(r.header("content-length")) == len(r.body)
    parts = r.body.split(b"--" + m.group(1).encode())
    bodies = [p.split(b"\r\n\r\n", 1)[1][:-2] for p in parts[1:-1]]
    assert bodies == [DATA[0:10], DATA[200000:200010], DATA[-5:]]
    assert b"Content-Range: bytes 200000-200009/%d" % len(DATA) in r.body


def test_other_methods_get_405_with_allow(static):
    r = get(static, "/s/hello.txt", method="DELETE")
    assert r.status == 405 and "GET" in r.header("allow")


def test_a_missing_file_is_404(static):
    assert get(static, "/s/nope.txt").status == 404


def test_an_unreadable_file_is_403(static):
    if os.geteuid() == 0:
        pytest.skip("root reads a mode-000 file")
    assert get(static, "/s/locked.txt").status == 403


RAW_SHAPES = [
    "/s/../secret.txt",          # the parser resolves it: /secret.txt is not under /s/
    "/s/%2e%2e/%2e%2e/secret.txt",
    "/s/..%2f..%2fsecret.txt",
    "/s/%2F..%2F..%2Fsecret.txt",
    "/s//out",
    "/s/./out",
    "/s/out",                    # an absolute symlink out of the root
    "/s/out-relative",           # a relative one climbing out
    "/s/hello.txt%00.css",
    "/s/..%5c..%5csecret.txt",
    "/s/sub",                    # a directory
    "/s/sub/",
    "/s/fifo",                   # a FIFO: refused without waiting for a writer
    "/s/../../../../etc/passwd",
]


@pytest.mark.parametrize("target", RAW_SHAPES)
def test_no_path_shape_serves_a_byte_outside_the_root(static, target):
    c = static.connect()
    try:
        c.send(("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % target).encode())
        r = c.response()
    finally:
        c.close()
    # 400: the HTTP/1.1 parser refuses a path climbing above "/" before any rule is looked at.
    assert r.status in (404, 400), (target, r.status)
    assert SECRET not in r.body and b"root:" not in r.body


def test_a_symlink_inside_the_root_is_followed(static):
    assert get(static, "/s/in").body == SMALL


def test_refusals_are_logged(static):
    get(static, "/s/out")
    assert ghtest.wait_for(lambda: any("refused" in l and "out" in l
                                       for l in static.stderr_lines))


def test_http2_serves_files_ranges_and_304(static):
    if not h2c_supported(static):
        pytest.skip("no h2c in this build")
    out = curl("--http2-prior-knowledge", "-D", "-", static.url("/s/data.bin"))
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    assert out.returncode == 0 and b"HTTP/2 200" in head and body == DATA
    out = curl("--http2-prior-knowledge", "-H", "Range: bytes=5-9,100-104",
               static.url("/s/data.bin"), "-w", "%{http_code}")
    assert out.stdout.endswith(b"206") and DATA[100:105] in out.stdout
    etag = get(static, "/s/hello.txt").header("etag")
    out = curl("--http2-prior-knowledge", "-H", "If-None-Match: " + etag, "-o", "/dev/null",
               "-w", "%{http_code}", static.url("/s/hello.txt"))
    assert out.stdout == b"304"
    out = curl("--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}",
               static.url("/s/out"))
    assert out.stdout == b"404"
    out = curl("--http2-prior-knowledge", "-I", static.url("/s/data.bin"))
    assert out.returncode == 0 and b"HTTP/2 200" in out.stdout
    assert b"content-length: %d" % len(DATA) in out.stdout.lower()


def _check(tmp_path, root):
    text = "\n".join([
        "listeners:",
        "  - {name: http, address: \"127.0.0.1:0\"}",
        "pools:",
        "  app: {servers: [\"127.0.0.1:9\"]}",
        "rules:",
        "  - name: assets",
        "    match: {path_prefix: /s/}",
        "    static: {root: %s}" % root,
        "  - {name: default, pool: app}"]) + "\n"
    path = tmp_path / "gh.yaml"
    path.write_text(text)
    import subprocess
    p = subprocess.run([ghtest.gatehouse_bin(), "check", "-c", str(path)], capture_output=True,
                       text=True, timeout=30, env=ghtest.clean_env())
    return str(path), p.returncode, p.stdout + p.stderr


def test_check_refuses_a_static_root_that_does_not_exist_at_its_line(tmp_path):
    path, rc, out = _check(tmp_path, tmp_path / "missing")
    assert rc != 0
    assert re.search(re.escape(path) + r":8:\d+: .*static.root.*does not exist", out), out


def test_check_refuses_a_static_root_that_is_a_file(tmp_path):
    (tmp_path / "plain").write_text("x")
    path, rc, out = _check(tmp_path, tmp_path / "plain")
    assert rc != 0 and "is not a directory" in out, out


def test_check_accepts_an_existing_static_root(tmp_path):
    (tmp_path / "pub").mkdir()
    _, rc, out = _check(tmp_path, tmp_path / "pub")
    assert rc == 0, out


def test_keep_alive_goes_on_after_files_and_refusals(static):
    c = static.connect()
    try:
        for target, status, body in [("/s/data.bin", 200, DATA), ("/s/nope", 404, None),
                                     ("/s/hello.txt", 200, SMALL), ("/s/out", 404, None),
                                     ("/s/hello.txt", 200, SMALL)]:
            c.send(ghtest.build("GET", target))
            r = c.response()
            assert r.status == status and r.complete
            if body is not None:
                assert r.body == body
    finally:
        c.close()
