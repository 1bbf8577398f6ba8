# SPDX-License-Identifier: MIT
"""X-Accel-Redirect and X-Sendfile: the backend names a file, gatehouse serves it from disk with
the backend's kept fields and validators, and drops the backend's body."""
import hashlib
import os
import subprocess
import time

import pytest

import ghtest
from cacheutil import Answer, Origin
from h2raw import h2c_supported


@pytest.fixture
def setup(factory, tmp_path):
    root = tmp_path / "tarballs"
    root.mkdir()
    (root / "a.txt").write_bytes(b"0123456789" * 100)
    sroot = tmp_path / "srv"
    sroot.mkdir()
    (sroot / "s.bin").write_bytes(b"S" * 5000)
    outside = tmp_path / "secret.txt"
    outside.write_bytes(b"secret")
    os.symlink(str(outside), str(root / "link.txt"))
    origin = Origin()
    cfg = factory.config([origin.address], workers=1,
                         internal=[{"prefix": "/tarballs/", "root": str(root)}],
                         sendfile_roots=[str(sroot)])
    gh = factory.gatehouse(cfg)
    yield origin, gh, tmp_path
    origin.stop()


def accel(target, *extra, body=b"app body, never sent"):
    return Answer(headers=[("X-Accel-Redirect", target), *extra], body=body)


def test_x_accel_redirect_serves_the_file_with_kept_fields_and_drops_the_backend_body(setup):
    origin, gh, _ = setup
    origin.set("/dl", accel("/tarballs/a.txt", ("Content-Disposition", "attachment"),
                            ("X-Powered-By", "app"), ("X-Accel-Charset", "utf-8"),
                            ("Content-Type", "text/plain"), ("ETag", '"app-tag"')))
    r = ghtest.request(gh, target="/dl")
    assert r.status == 200
    assert r.body == b"0123456789" * 100
    h = {k.lower(): v for k, v in r.headers}
    assert h["content-disposition"] == "attachment"
    assert h["etag"] == '"app-tag"'
    assert h["content-type"] == "text/plain; charset=utf-8"
    assert "x-powered-by" not in h and "x-accel-redirect" not in h and "x-accel-charset" not in h


def test_range_and_if_range_use_the_backend_validators(setup):
    origin, gh, _ = setup
    origin.set("/dl", accel("/tarballs/a.txt", ("ETag", '"v1"')))
    r = ghtest.request(gh, target="/dl", headers=[("Range", "bytes=10-19"), ("If-Range", '"v1"')])
    assert r.status == 206 and r.body == b"0123456789"
    r = ghtest.request(gh, target="/dl", headers=[("Range", "bytes=10-19"), ("If-Range", '"v0"')])
    assert r.status == 200 and len(r.body) == 1000
    r = ghtest.request(gh, target="/dl", headers=[("If-None-Match", '"v1"')])
    assert r.status == 304


def test_a_post_answered_with_x_accel_redirect_gets_the_file_as_a_get_would(setup):
    origin, gh, _ = setup
    origin.set("/dl", accel("/tarballs/a.txt"))
    r = ghtest.request(gh, method="POST", target="/dl", body=b"form=1")
    assert r.status == 200 and r.body == b"0123456789" * 100
    r = ghtest.request(gh, method="HEAD", target="/dl")
    assert r.status == 200 and r.body == b"" and r.header("content-length") == "1000"


@pytest.mark.parametrize("path", ["/tarballs/a.txt", "/%74arballs/a.txt", "//tarballs/a.txt",
                                  "/./tarballs/a.txt", "/tarballs%2Fa.txt", "/tarballs%2fa.txt"])
def test_a_client_request_to_an_internal_prefix_gets_404(setup, path):
    origin, gh, _ = setup
    r = ghtest.request(gh, target=path)
    assert r.status == 404
    assert origin.count() == 0


@pytest.mark.parametrize("target", ["/tarballs/../secret.txt", "/tarballs/%2e%2e/secret.txt",
                                    "/tarballs/link.txt", "/elsewhere/a.txt",
                                    "/tarballs/missing.txt"])
def test_targets_outside_the_root_or_unknown_get_404_and_no_file_byte(setup, target):
    origin, gh, _ = setup
    origin.set("/dl", accel(target))
    r = ghtest.request(gh, target="/dl")
    assert r.status == 404
    assert b"secret" not in r.body


def test_x_sendfile_serves_within_its_roots_only(setup):
    origin, gh, tmp = setup
    origin.set("/in", Answer(headers=[("X-Sendfile", str(tmp / "srv" / "s.bin"))]))
    origin.set("/out", Answer(headers=[("X-Sendfile", str(tmp / "secret.txt"))]))
    r = ghtest.request(gh, target="/in")
    assert r.status == 200 and r.body == b"S" * 5000
    assert not any(k.lower() == "x-sendfile" for k, _ in r.headers)
    r = ghtest.request(gh, target="/out")
    assert r.status == 404 and b"secret" not in r.body
    assert ghtest.wait_for(lambda: "outside sendfile_roots" in gh.stderr())


def test_a_1gib_sparse_file_arrives_whole(setup):
    origin, gh, tmp = setup
    size = 1 << 30
    path = tmp / "tarballs" / "big.bin"
    with open(path, "wb") as f:
        f.truncate(size)
        f.seek(size // 2)
        f.write(b"middle")
    origin.set("/big", accel("/tarballs/big.bin"))

    def sha(stream):
        h = hashlib.sha256()
        for piece in iter(lambda: stream.read(1 << 20), b""):
            h.update(piece)
        return h.hexdigest()

    with open(path, "rb") as f:
        want = sha(f)
    p = subprocess.Popen(["curl", "-sS", "--noproxy", "*", "--max-time", "60", gh.url("/big")],
                         stdout=subprocess.PIPE)
    got = sha(p.stdout)
    assert p.wait() == 0
    assert got == want


def test_200_concurrent_downloads_of_a_1gib_file_grow_rss_by_under_64mib(setup):
    """Issue 11 point 9: each download holds a bounded buffer, not the file."""
    if ghtest.sanitized_build():
        pytest.skip("ASan's memory use is not comparable")
    origin, gh, tmp = setup
    path = tmp / "tarballs" / "big.bin"
    with open(path, "wb") as f:
        f.truncate(1 << 30)
    origin.set("/big", accel("/tarballs/big.bin"))
    [worker] = gh.workers()

    def status(key):
        with open("/proc/%d/status" % worker) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    before = status("VmRSS")
    fds = len(os.listdir("/proc/%d/fd" % worker))
    clients = [subprocess.Popen(["curl", "-s", "--noproxy", "*", "--limit-rate", "2M",
                                 "--max-time", "20", "-o", "/dev/null", gh.url("/big")])
               for _ in range(200)]
    try:
        # Every download under way: a client socket and an open file each.
        assert ghtest.wait_for(lambda: len(os.listdir("/proc/%d/fd" % worker)) >= fds + 400,
                               timeout=20)
        peak = max(status("VmRSS") for _ in range(20) if not time.sleep(0.05))
    finally:
        for c in clients:
            c.kill()
            c.wait()
    print("RSS growth with 200 downloads: %d KiB" % (peak - before))
    assert peak - before < 64 * 1024, "RSS grew by %d KiB" % (peak - before)


@pytest.fixture
def cached(factory, tmp_path):
    root = tmp_path / "tarballs"
    root.mkdir()
    (root / "a.txt").write_bytes(b"0123456789" * 100)
    origin = Origin()
    cfg = factory.config([origin.address], workers=1,
                         cache={"memory": "64MiB", "status_header": "X-Cache"},
                         internal=[{"prefix": "/tarballs/", "root": str(root)}])
    gh = factory.gatehouse(cfg)
    yield origin, gh
    origin.stop()


def test_a_cached_offload_decision_serves_ranges_without_the_backend(cached):
    origin, gh = cached
    origin.set("/dl", accel("/tarballs/a.txt", ("Cache-Control", "public, max-age=60"),
                            ("ETag", '"d1"')))
    r = ghtest.request(gh, target="/dl", headers=[("Range", "bytes=0-9")])
    assert r.status == 206 and r.body == b"0123456789"
    assert origin.count("/dl") == 1
    c = gh.connect()
    try:
        for i in range(200):
            c.send(ghtest.build("GET", "/dl", [("Range", "bytes=%d-%d" % (i, i + 9))], None,
                                "test.example", "HTTP/1.1", close=False))
            r = c.response(method="GET")
            assert r.status == 206
            assert r.header("x-cache") == "HIT"
            assert len(r.body) == 10
    finally:
        c.close()
    r = ghtest.request(gh, method="HEAD", target="/dl")
    assert r.status == 200 and r.header("etag") == '"d1"'
    assert origin.count("/dl") == 1


def test_x_accel_expires_0_is_not_cached_and_n_is(cached):
    origin, gh = cached
    origin.set("/no", accel("/tarballs/a.txt", ("Cache-Control", "public, max-age=60"),
                            ("X-Accel-Expires", "0")))
    origin.set("/yes", accel("/tarballs/a.txt", ("X-Accel-Expires", "60")))
    for _ in range(3):
        assert ghtest.request(gh, target="/no").status == 200
        r = ghtest.request(gh, target="/yes")
        assert r.status == 200 and len(r.body) == 1000
        assert not r.has("x-accel-expires")
    assert origin.count("/no") == 3
    assert origin.count("/yes") == 1


def test_x_accel_expires_at_an_epoch_caches_until_then_and_a_past_one_not(cached):
    origin, gh = cached
    origin.set("/later", accel("/tarballs/a.txt", ("X-Accel-Expires", "@%d" % (time.time() + 60))))
    origin.set("/past", accel("/tarballs/a.txt", ("X-Accel-Expires", "@%d" % (time.time() - 60))))
    for _ in range(3):
        assert ghtest.request(gh, target="/later").status == 200
        assert ghtest.request(gh, target="/past").status == 200
    assert origin.count("/later") == 1
    assert origin.count("/past") == 3


def test_an_internal_prefix_gets_404_over_http2_too(setup):
    origin, gh, _ = setup
    if not h2c_supported(gh):
        pytest.skip("no h2c in this build")
    for path in ["/tarballs/a.txt", "/%74arballs/a.txt", "//tarballs/a.txt"]:
        out = subprocess.run(["curl", "-s", "--http2-prior-knowledge", "--path-as-is", "-o",
                              "/dev/null", "-w", "%{http_code}", gh.url(path)],
                             capture_output=True, timeout=30)
        assert out.stdout == b"404", path
    assert origin.count() == 0


@pytest.mark.parametrize("rate", [1 << 20, 2 << 20])
def test_x_accel_limit_rate_paces_the_download_within_ten_percent(setup, rate):
    origin, gh, tmp = setup
    data = os.urandom(2 << 20)
    (tmp / "tarballs" / "big.bin").write_bytes(data)
    origin.set("/slow", accel("/tarballs/big.bin", ("X-Accel-Limit-Rate", str(rate))))
    started = time.monotonic()
    r = ghtest.request(gh, target="/slow")
    took = time.monotonic() - started
    assert r.status == 200 and r.body == data
    assert r.header("x-accel-limit-rate") is None
    want = len(data) / rate
    assert want * 0.9 <= took <= want * 1.1 + 0.1, "%.2f s for %.2f s at the rate" % (took, want)


def test_x_accel_limit_rate_holds_over_http2(factory, tmp_path):
    root = tmp_path / "tarballs"
    root.mkdir()
    data = os.urandom(1 << 20)
    (root / "big.bin").write_bytes(data)
    origin = Origin()
    try:
        origin.set("/slow", accel("/tarballs/big.bin", ("X-Accel-Limit-Rate", str(1 << 20))))
        gh = factory.gatehouse(factory.config([origin.address], workers=1,
                                              internal=[{"prefix": "/tarballs/",
                                                         "root": str(root)}]))
        if not h2c_supported(gh):
            pytest.skip("no h2c in this build")
        started = time.monotonic()
        p = subprocess.run(["curl", "-s", "--http2-prior-knowledge", "-o", "-",
                            gh.url("/slow")], capture_output=True, timeout=30)
        took = time.monotonic() - started
        assert p.returncode == 0 and p.stdout == data
        assert 0.9 <= took <= 1.2, "%.2f s for 1 s at the rate" % took
    finally:
        origin.stop()
