# SPDX-License-Identifier: MIT
"""upload_offload: a request body lands in a file under the rule's dir, hashed with SHA-256 on the
way; the backend gets X-Upload-Path, -Size and -SHA256 and an empty body; the file is removed once
the response has been sent, unless the backend answered X-Upload-Keep: 1."""
import hashlib
import os
import socket
import subprocess

import pytest

import ghtest
from cacheutil import Answer, Origin
from h2raw import h2c_supported


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for piece in iter(lambda: f.read(1 << 20), b""):
            h.update(piece)
    return h.hexdigest()


class App:
    """The backend's part: it reads the upload from the file it is told about, as an app would."""

    def __init__(self, keep=False):
        self.keep = keep
        self.seen = []  # (fields, sha256 of the named file or None, its size)

    def __call__(self, method, target, fields):
        path = fields.get("x-upload-path")
        sha = size = None
        if path and os.path.exists(path):
            sha, size = file_sha256(path), os.path.getsize(path)
        self.seen.append((fields, sha, size))
        headers = [("Content-Type", "text/plain")]
        if self.keep:
            headers.append(("X-Upload-Keep", "1"))
        return Answer(status=201, reason="Created", headers=headers, body=b"stored\n")


@pytest.fixture
def setup(factory, tmp_path):
    updir = tmp_path / "uploads"
    updir.mkdir()
    origin = Origin()
    cfg = factory.config(
        [origin.address], workers=1, limits={"max_request_body": "1MiB"},
        rules=[{"name": "uploads", "match": {"path": "^/upload"}, "pool": "app",
                "upload_offload": {"dir": str(updir), "max": "2GiB"}},
               {"name": "small", "match": {"path": "^/small"}, "pool": "app",
                "upload_offload": {"dir": str(updir), "max": "100KiB"}},
               {"name": "default", "pool": "app"}])
    gh = factory.gatehouse(cfg)
    yield origin, gh, updir, tmp_path
    origin.stop()


def empty(d):
    return ghtest.wait_for(lambda: os.listdir(d) == [])


def sparse_file(path, size):
    """|size| bytes, mostly holes, with marks spread through it so that order and loss show."""
    with open(path, "wb") as f:
        f.truncate(size)
        for i in range(16):
            f.seek(i * (size // 16) + 12345)
            f.write(b"mark %d" % i)
    return file_sha256(path)


def test_a_1gib_upload_arrives_as_a_file_with_its_sha256_and_the_backend_reads_no_body(setup):
    origin, gh, updir, tmp = setup
    app = App()
    origin.set("/upload/big", app)
    src = tmp / "big.bin"
    want = sparse_file(src, 1 << 30)
    out = ghtest.curl("-T", str(src), "-X", "POST", "-w", "%{speed_upload} %{http_code}", gh.url("/upload/big"),
                      timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.endswith(b"201")
    print("upload speed: %.0f MiB/s" % (float(out.stdout.split()[-2]) / (1 << 20)))
    fields, sha, size = app.seen[0]
    assert fields["content-length"] == "0"
    assert fields["x-upload-size"] == str(1 << 30) and size == 1 << 30
    assert fields["x-upload-sha256"] == want and sha == want
    assert fields["x-upload-path"].startswith(str(updir) + "/")
    assert empty(updir)  # removed once the response was sent


def test_a_chunked_upload_is_hashed_and_the_file_removed(setup):
    origin, gh, updir, _ = setup
    app = App()
    origin.set("/upload/c", app)
    body = os.urandom(300000)
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 7000]), body[i:i + 7000])
                      for i in range(0, len(body), 7000)) + b"0\r\n\r\n"
    r = ghtest.request(gh, method="POST", target="/upload/c",
                       headers=[("Transfer-Encoding", "chunked")], body=chunks)
    assert r.status == 201 and r.body == b"stored\n"
    fields, sha, size = app.seen[0]
    assert fields["x-upload-sha256"] == hashlib.sha256(body).hexdigest() == sha
    assert size == len(body) and "transfer-encoding" not in fields
    assert empty(updir)


def test_the_rule_max_replaces_the_global_body_limit_and_past_it_gives_413(setup):
    origin, gh, updir, _ = setup
    origin.set("/upload/m", App())
    origin.set("/small/m", App())
    # 2 MiB: over limits.max_request_body (1 MiB), within the upload rule's 2 GiB.
    r = ghtest.request(gh, method="POST", target="/upload/m", body=b"u" * (2 << 20))
    assert r.status == 201
    # Over the small rule's 100 KiB, announced and chunked: 413, no file left, no backend call.
    r = ghtest.request(gh, method="POST", target="/small/m", body=b"s" * 200000)
    assert r.status == 413
    chunk = b"x" * 60000
    r = ghtest.request(gh, method="POST", target="/small/m",
                       headers=[("Transfer-Encoding", "chunked")],
                       body=(b"%x\r\n%s\r\n" % (len(chunk), chunk)) * 3 + b"0\r\n\r\n")
    assert r.status == 413
    assert origin.count("/small/m") == 0
    assert empty(updir)


def test_x_upload_keep_leaves_the_file_and_is_never_forwarded(setup):
    origin, gh, updir, _ = setup
    app = App(keep=True)
    origin.set("/upload/k", app)
    r = ghtest.request(gh, method="POST", target="/upload/k", body=b"keep me")
    assert r.status == 201 and r.header("x-upload-keep") is None
    path = app.seen[0][0]["x-upload-path"]
    with open(path, "rb") as f:
        assert f.read() == b"keep me"
    assert os.stat(path).st_mode & 0o777 == 0o640


def test_client_x_upload_fields_never_reach_the_backend(setup):
    origin, gh, _, _ = setup
    app = App()
    origin.set("/upload/f", app)
    origin.set("/other", app)
    forged = [("X-Upload-Path", "/etc/passwd"), ("X-Upload-Size", "1"), ("X-Upload-SHA256", "0")]
    ghtest.request(gh, method="POST", target="/other", headers=forged, body=b"x")
    ghtest.request(gh, method="GET", target="/upload/f", headers=forged)
    ghtest.request(gh, method="POST", target="/upload/f", headers=forged, body=b"real")
    assert not any(k.startswith("x-upload-") for k in app.seen[0][0])
    assert not any(k.startswith("x-upload-") for k in app.seen[1][0])
    fields = app.seen[2][0]
    assert fields["x-upload-path"] != "/etc/passwd" and fields["x-upload-size"] == "4"


def test_a_dead_backend_gives_502_and_removes_the_file(setup):
    origin, gh, updir, _ = setup
    origin.stop()
    r = ghtest.request(gh, method="POST", target="/upload/d", body=b"z" * 50000)
    assert r.status == 502
    assert empty(updir)


def test_a_client_that_gives_up_mid_upload_leaves_no_file(setup):
    origin, gh, updir, _ = setup
    origin.set("/upload/a", App())
    s = socket.create_connection(gh.hostport)
    s.sendall(b"POST /upload/a HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" +
              b"a" * 300000)
    assert ghtest.wait_for(lambda: len(os.listdir(updir)) == 1)
    s.close()
    assert empty(updir)
    assert origin.count("/upload/a") == 0


def test_an_http2_upload_arrives_as_a_file(setup):
    origin, gh, updir, tmp = setup
    if not h2c_supported(gh):
        pytest.skip("no h2c on the plain listener")
    app = App()
    origin.set("/upload/h2", app)
    src = tmp / "h2.bin"
    src.write_bytes(os.urandom(3 << 20))
    out = ghtest.curl("--http2-prior-knowledge", "-T", str(src), "-X", "POST", "-w",
                      "%{http_code} %{http_version}", gh.url("/upload/h2"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.endswith(b"201 2")
    fields, sha, size = app.seen[0]
    assert sha == file_sha256(src) == fields["x-upload-sha256"] and size == 3 << 20
    assert fields["content-length"] == "0"
    assert empty(updir)


def test_check_refuses_an_upload_dir_that_does_not_exist_at_its_line(tmp_path):
    path = tmp_path / "gh.yaml"
    missing = tmp_path / "nope"
    path.write_text("listeners: [{name: http, address: \"127.0.0.1:0\"}]\n"
                    "pools: {app: {servers: [\"127.0.0.1:9\"]}}\n"
                    "rules:\n"
                    "  - name: up\n"
                    "    pool: app\n"
                    "    upload_offload: {dir: %s, max: 1GiB}\n" % missing)
    p = subprocess.run([ghtest.gatehouse_bin(), "check", "-c", str(path)], capture_output=True,
                       text=True, timeout=30, env=ghtest.clean_env())
    assert p.returncode == 1
    assert '%s:6:27: error: upload_offload.dir: directory "%s" does not exist' % (
        path, missing) in p.stdout + p.stderr, p.stdout + p.stderr


def test_an_http2_upload_over_the_rule_max_gets_413_and_leaves_no_file(setup):
    origin, gh, updir, tmp = setup
    if not h2c_supported(gh):
        pytest.skip("no h2c on the plain listener")
    origin.set("/small/h2", App())
    src = tmp / "h2big.bin"
    src.write_bytes(b"q" * 300000)
    # nghttp: curl 7.88 drops a response that comes with RST_STREAM(NO_ERROR) (RFC 9113 8.1).
    out = subprocess.run(["nghttp", "-nv", "-d", str(src), gh.url("/small/h2")],
                         capture_output=True, text=True, timeout=30)
    assert ":status: 413" in out.stdout, out.stdout[-3000:]
    assert origin.count("/small/h2") == 0
    assert empty(updir)
