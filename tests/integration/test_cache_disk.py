# SPDX-License-Identifier: MIT
"""The disk tier end to end: objects kept across a restart and a worker's kill -9 (the partial
object never served), a flipped byte caught, max_object_size, sendfile on plain connections and
the RSS of a large object's fill and hit.

The memory tier is 1 MiB here, so its object limit (memory / 8) is 128 KiB: the bodies of 1 MiB
and more go to the disk only, and, being larger than the promotion limit (256 KiB), are never
copied into memory either: every HIT on them is served from the disk."""
import hashlib
import os
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest

import ghtest
import tlsutil
from cacheutil import Answer, Origin, generated, generated_sha256, get

PUBLIC = [("Cache-Control", "public, max-age=600")]
MiB = 1 << 20
REBUILT = "cache disk index rebuilt"


def disk_config(factory, origin, tmp_path, cache=None, **over):
    disk = {"path": str(tmp_path / "cache"), "size": "1GiB"}
    c = {"memory": "1MiB", "disk": disk, "status_header": "X-Cache"}
    c.update(cache or {})
    return factory.config([origin.address], workers=1, cache=c, **over)


def rebuilds(gh):
    return sum(1 for l in gh.stderr_lines if REBUILT in l)


def start(factory, cfg, rebuilt=1):
    """A gatehouse on |cfg|, once its disk index rebuild has ended (the log line)."""
    gh = factory.gatehouse(cfg)
    assert ghtest.wait_for(lambda: rebuilds(gh) >= rebuilt, timeout=10), gh.stderr()
    return gh


def object_files(tmp_path):
    """The published object files under the disk path (not the fills in tmp/)."""
    root = tmp_path / "cache"
    out = []
    for dirpath, dirnames, files in os.walk(root):
        if os.path.relpath(dirpath, root).split(os.sep)[0] == "tmp":
            continue
        out += [os.path.join(dirpath, f) for f in files]
    return sorted(out)


def temp_files(tmp_path):
    d = tmp_path / "cache" / "tmp"
    return [d / f for f in os.listdir(d)] if d.exists() else []


def test_the_disk_tier_keeps_its_objects_across_a_restart(factory, tmp_path):
    origin = Origin()
    cfg = disk_config(factory, origin, tmp_path)
    body = generated(2 * MiB)
    origin.set("/kept", headers=PUBLIC, body=body)
    gh = start(factory, cfg)
    r = get(gh, "/kept")
    assert r.status == 200 and r.body == body and r.header("x-cache") == "MISS"
    r = get(gh, "/kept")
    assert r.body == body and r.header("x-cache") == "HIT"
    assert len(object_files(tmp_path)) == 1
    gh.stop()  # SIGTERM
    gh.expected_exit = True

    gh = start(factory, cfg)
    r = get(gh, "/kept")
    assert r.status == 200 and r.body == body
    assert r.header("x-cache") == "HIT" and r.header("age") is not None
    assert origin.count("/kept") == 1


def test_a_kill_9_mid_fill_never_serves_the_partial_object(factory, tmp_path):
    origin = Origin()
    cfg = disk_config(factory, origin, tmp_path)
    kept = generated(MiB + 7)
    origin.set("/kept", headers=PUBLIC, body=kept)
    release = threading.Event()
    slow = Answer(headers=PUBLIC, size=8 * MiB, hold=release, hold_after=3 * MiB)
    origin.set("/slow", slow)
    gh = start(factory, cfg)
    assert get(gh, "/kept").header("x-cache") == "MISS"
    [worker] = gh.workers()

    # The fill of /slow is on its way: its temporary file holds part of the body.
    c = gh.connect()
    c.send(ghtest.build("GET", "/slow", host="test.example", close=True))
    assert slow.held.wait(5)
    assert ghtest.wait_for(lambda: any(os.path.getsize(f) >= 3 * MiB for f in temp_files(tmp_path)))
    os.kill(worker, signal.SIGKILL)
    try:
        r = c.response()
        assert not r.complete and len(r.body) < 8 * MiB  # the client saw the cut
    except (ghtest.Closed, ConnectionResetError):
        pass  # cut before the head reached it
    c.close()
    release.set()

    # The main process starts a new worker; its rebuild drops the dead worker's fill.
    assert ghtest.wait_for(lambda: gh.workers() not in ([], [worker]), timeout=10)
    assert ghtest.wait_for(lambda: rebuilds(gh) >= 2, timeout=10), gh.stderr()
    assert temp_files(tmp_path) == []

    origin.set("/slow", headers=PUBLIC, size=8 * MiB)
    r = get(gh, "/slow")
    assert r.status == 200 and r.header("x-cache") == "MISS"
    assert r.length == 8 * MiB and r.sha256 == generated_sha256(8 * MiB)
    assert origin.count("/slow") == 2
    r = get(gh, "/slow")
    assert r.header("x-cache") == "HIT" and r.sha256 == generated_sha256(8 * MiB)

    r = get(gh, "/kept")
    assert r.header("x-cache") == "HIT" and r.body == kept
    assert origin.count("/kept") == 1


def test_a_flipped_byte_in_a_cache_file_is_a_miss_and_the_file_is_dropped(factory, tmp_path):
    origin = Origin()
    cfg = disk_config(factory, origin, tmp_path)
    body = generated(MiB)
    origin.set("/flip", headers=PUBLIC, body=body)
    gh = start(factory, cfg)
    get(gh, "/flip")
    assert get(gh, "/flip").header("x-cache") == "HIT"
    gh.stop()
    gh.expected_exit = True

    [path] = object_files(tmp_path)
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)  # in the body
        b = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([b[0] ^ 0x01]))

    gh = start(factory, cfg)
    assert not os.path.exists(path)
    r = get(gh, "/flip")
    assert r.status == 200 and r.header("x-cache") == "MISS" and r.body == body
    assert origin.count("/flip") == 2
    r = get(gh, "/flip")
    assert r.header("x-cache") == "HIT" and r.body == body


def test_max_object_size_is_respected_with_the_disk_tier(factory, tmp_path):
    origin = Origin()
    cfg = disk_config(factory, origin, tmp_path, cache={"max_object_size": "2MiB"})
    origin.set("/big", headers=PUBLIC, size=3 * MiB)
    origin.set("/bigchunked", headers=PUBLIC, body=generated(3 * MiB), chunked=True)
    origin.set("/fits", headers=PUBLIC, size=2 * MiB)
    gh = start(factory, cfg)
    for path in ("/big", "/bigchunked"):
        for _ in range(2):
            r = get(gh, path)
            assert r.header("x-cache") == "MISS" and r.sha256 == generated_sha256(3 * MiB)
        assert origin.count(path) == 2
    get(gh, "/fits")
    assert get(gh, "/fits").header("x-cache") == "HIT"
    assert object_files(tmp_path) and all(os.path.getsize(f) < 3 * MiB
                                           for f in object_files(tmp_path))


def _rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _fill_and_hit_rss(factory, tmp_path, size):
    """Fills and hits an object of |size| bytes with curl -o /dev/null; returns the worker's
    largest RSS growth (KiB) over its RSS before the fill."""
    origin = Origin()
    cfg = disk_config(factory, origin, tmp_path,
                      cache={"disk": {"path": str(tmp_path / "cache"), "size": "%dMiB" % (
                          size // MiB + 64)}})
    origin.set("/huge", headers=PUBLIC, size=size)
    gh = start(factory, cfg)
    get(gh, "/small-warm-up")
    [worker] = gh.workers()
    base = _rss_kib(worker)
    peak = [base]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _rss_kib(worker))
            time.sleep(0.01)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        for want in ("MISS", "HIT"):
            out = ghtest.curl("-o", "/dev/null", "-D", "-", "-w", "size=%{size_download}\n",
                              "-H", "Host: test.example", gh.url("/huge"), timeout=300)
            text = out.stdout.decode("latin-1")
            assert out.returncode == 0, out.stderr
            assert "x-cache: %s" % want.lower() in text.lower(), text
            assert "size=%d" % size in text
    finally:
        done.set()
        t.join()
    assert origin.count("/huge") == 1
    return peak[0] - base, base


def test_a_256mib_object_is_filled_and_served_within_64mib_of_rss_growth(factory, tmp_path):
    if ghtest.sanitized_build():
        pytest.skip("RSS of a sanitized build is not comparable")
    growth, base = _fill_and_hit_rss(factory, tmp_path, 256 * MiB)
    print("256 MiB object: worker RSS %d KiB before, peak growth %d KiB" % (base, growth))
    assert growth < 64 * 1024


@pytest.mark.skipif(os.environ.get("GATEHOUSE_TEST_2GIB") != "1",
                    reason="set GATEHOUSE_TEST_2GIB=1 (slow: 4 GiB through loopback)")
def test_a_2gib_object_is_filled_and_served_within_64mib_of_rss_growth(factory, tmp_path):
    if ghtest.sanitized_build():
        pytest.skip("RSS of a sanitized build is not comparable")
    growth, base = _fill_and_hit_rss(factory, tmp_path, 2048 * MiB)
    print("2 GiB object: worker RSS %d KiB before, peak growth %d KiB" % (base, growth))
    assert growth < 64 * 1024


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_a_disk_hit_goes_out_with_sendfile_on_a_plain_connection(factory, tmp_path):
    origin = Origin()
    cfg = disk_config(factory, origin, tmp_path)
    body = generated(MiB)
    origin.set("/sf", headers=PUBLIC, body=body)
    gh = start(factory, cfg)
    assert get(gh, "/sf").header("x-cache") == "MISS"
    [worker] = gh.workers()
    log = tmp_path / "strace.out"
    st = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=sendfile", "-o", str(log),
                           "-p", str(worker)], stderr=subprocess.DEVNULL)
    try:
        # strace is attached once every thread of the worker shows it as its tracer.
        def traced():
            tids = os.listdir("/proc/%d/task" % worker)
            return all(_tracer(worker, tid) == st.pid for tid in tids)
        if not ghtest.wait_for(traced, timeout=5):
            pytest.skip("strace cannot attach to the worker (strace exit %r)" % st.poll())
        r = get(gh, "/sf")
        assert r.header("x-cache") == "HIT" and r.body == body
        # The client may have the last byte before strace has written the call's result: wait
        # for the results rather than detach in the middle of one.
        ghtest.wait_for(lambda: _sendfile_bytes(log) >= MiB, timeout=5)
    finally:
        st.send_signal(signal.SIGINT)
        st.wait(10)
    assert _sendfile_bytes(log) == MiB, log.read_text()


def _sendfile_bytes(log):
    """Bytes the completed sendfile calls in strace's output |log| sent."""
    if not log.exists():
        return 0
    calls = [l for l in log.read_text().splitlines() if "sendfile" in l]
    return sum(int(m.group(1)) for m in map(re.compile(r"= (\d+)$").search, calls) if m)


def _tracer(pid, tid):
    try:
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            for l in f:
                if l.startswith("TracerPid:"):
                    return int(l.split()[1])
    except OSError:
        pass
    return None


def test_waiters_on_a_disk_fill_get_the_body_as_it_streams_in(factory, tmp_path):
    origin = Origin()
    cfg = disk_config(factory, origin, tmp_path)
    release = threading.Event()
    slow = Answer(headers=PUBLIC, size=4 * MiB, hold=release, hold_after=MiB)
    origin.set("/shared", slow)
    gh = start(factory, cfg)
    clients = [gh.connect() for _ in range(3)]
    clients[0].send(ghtest.build("GET", "/shared", close=True))
    assert slow.held.wait(5)
    for c in clients[1:]:
        c.send(ghtest.build("GET", "/shared", close=True))
    # The waiters have their heads and the first MiB while the backend still holds the rest.
    heads = [c.head() for c in clients]
    assert all(h[1] == 200 for h in heads)
    got = [bytearray() for _ in clients]
    for c, g in zip(clients, got):
        c._exact(MiB, g.extend)
    release.set()
    for c, h, g in zip(clients, heads, got):
        n = int(dict((k.lower(), v) for k, v in h[3])["content-length"])
        c._exact(n - MiB, g.extend)
        assert bytes(g) == generated(4 * MiB)
        c.close()
    assert origin.count("/shared") == 1
    assert get(gh, "/shared").header("x-cache") == "HIT"


def test_ranges_are_answered_from_a_disk_object(factory, tmp_path):
    origin = Origin()
    cfg = disk_config(factory, origin, tmp_path)
    body = generated(3 * MiB)
    origin.set("/rg", headers=PUBLIC, body=body)
    gh = start(factory, cfg)
    get(gh, "/rg")
    r = get(gh, "/rg", headers=[("Range", "bytes=1000000-1000099")])
    assert r.status == 206 and r.body == body[1000000:1000100]
    assert r.header("content-range") == "bytes 1000000-1000099/%d" % len(body)
    r = get(gh, "/rg", headers=[("Range", "bytes=-10")])
    assert r.status == 206 and r.body == body[-10:]
    r = get(gh, "/rg", headers=[("Range", "bytes=0-9,2000000-2000009")])
    assert r.status == 206 and body[:10] in r.body and body[2000000:2000010] in r.body
    assert origin.count("/rg") == 1


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_backend_dying_mid_body_leaves_nothing_on_disk(factory, tmp_path, chunked):
    origin = Origin()
    cfg = disk_config(factory, origin, tmp_path)
    body = generated(3 * MiB)
    origin.set("/cut", headers=PUBLIC, body=body, die_after=3 * MiB // 2, chunked=chunked)
    gh = start(factory, cfg)
    r = get(gh, "/cut")
    assert not r.complete
    assert ghtest.wait_for(lambda: temp_files(tmp_path) == [])
    assert object_files(tmp_path) == []
    origin.set("/cut", headers=PUBLIC, body=body, chunked=chunked)
    r = get(gh, "/cut")
    assert r.header("x-cache") == "MISS" and r.body == body
    assert get(gh, "/cut").header("x-cache") == "HIT"
    assert origin.count("/cut") == 2


@pytest.mark.parametrize("pad", [0, 8000], ids=["in-place", "rewritten"])
def test_a_304_updates_the_head_on_disk_and_it_survives_a_restart(factory, tmp_path, pad):
    """pad 8000: the 304's fields outgrow the file's head slots: the object moves to a new file."""
    origin = Origin()
    cfg = disk_config(factory, origin, tmp_path)
    body = generated(MiB)

    def answer(method, target, fields):
        tag = [("ETag", '"e1"')]
        if fields.get("if-none-match") == '"e1"':
            return Answer(status=304, reason="Not Modified",
                          headers=PUBLIC + tag + [("X-V", "2"), ("X-Pad", "p" * pad)])
        return Answer(headers=PUBLIC + tag + [("X-V", "1")], body=body)

    origin.set("/u", answer)
    gh = start(factory, cfg)
    assert get(gh, "/u").header("x-v") == "1"
    r = get(gh, "/u", headers=[("Cache-Control", "no-cache")])  # the client asks us to revalidate
    assert r.header("x-v") == "2" and r.body == body
    r = get(gh, "/u")
    assert r.header("x-cache") == "HIT" and r.header("x-v") == "2" and r.body == body
    gh.stop()
    gh.expected_exit = True

    gh = start(factory, cfg)
    r = get(gh, "/u")
    assert r.header("x-cache") == "HIT" and r.header("x-v") == "2" and r.body == body
    assert len(r.header("x-pad") or "") == pad
    assert origin.count("/u") == 2
    assert len(object_files(tmp_path)) == 1 and temp_files(tmp_path) == []


def _reload(gh, cfg, generation):
    since = len(gh.stderr_lines)
    gh.write_config(cfg)
    os.kill(gh.pid, signal.SIGHUP)
    want = "reload: config generation %d serving" % generation
    assert ghtest.wait_for(lambda: any(want in l for l in gh.stderr_lines[since:]), timeout=10), \
        gh.stderr()


def test_the_disk_tier_stays_within_its_size_and_follows_a_reload(factory, tmp_path):
    origin = Origin()
    cfg = disk_config(factory, origin, tmp_path,
                      cache={"disk": {"path": str(tmp_path / "cache"), "size": "3MiB"}})
    for p in ("/a", "/b", "/c", "/d"):
        origin.set(p, headers=PUBLIC, size=MiB)
    gh = start(factory, cfg)
    for p in ("/a", "/b", "/c", "/d"):
        assert get(gh, p).header("x-cache") == "MISS"
    sizes = [os.path.getsize(f) for f in object_files(tmp_path)]
    assert len(sizes) == 2 and sum(sizes) <= 3 * MiB  # two of 1 MiB and a bit each
    assert get(gh, "/d").header("x-cache") == "HIT"

    cfg["cache"]["disk"]["size"] = "1536KiB"
    _reload(gh, cfg, 1)
    assert [os.path.getsize(f) for f in object_files(tmp_path)] != []
    assert sum(os.path.getsize(f) for f in object_files(tmp_path)) <= 1536 * 1024
    assert len(gh.workers()) == 1  # the same worker: the reload was in place
    assert len(object_files(tmp_path)) == 1
    assert get(gh, "/d").header("x-cache") == "HIT"  # the newest of the two stays
    assert get(gh, "/c").header("x-cache") == "MISS"


def test_a_fill_cut_by_a_stop_is_not_stored(factory, tmp_path):
    origin = Origin()
    cfg = disk_config(factory, origin, tmp_path, timeouts={"shutdown": "300ms"})
    release = threading.Event()
    slow = Answer(headers=PUBLIC, size=4 * MiB, hold=release, hold_after=2 * MiB)
    origin.set("/slow", slow)
    gh = start(factory, cfg)
    c = gh.connect()
    c.send(ghtest.build("GET", "/slow", close=True))
    assert slow.held.wait(5)
    gh.stop()  # SIGTERM: the drain's deadline cuts the fill
    gh.expected_exit = True
    release.set()
    c.close()
    assert temp_files(tmp_path) == [] and object_files(tmp_path) == []

    origin.set("/slow", headers=PUBLIC, size=4 * MiB)
    gh = start(factory, cfg)
    r = get(gh, "/slow")
    assert r.header("x-cache") == "MISS" and r.sha256 == generated_sha256(4 * MiB)
    assert origin.count("/slow") == 2


def _x_cache(head_text):
    for line in head_text.lower().splitlines():
        if line.startswith("x-cache:"):
            return line.split(":", 1)[1].strip()
    return None


def test_disk_hits_over_tls_and_http2_have_whole_bodies(factory, tmp_path):
    """No sendfile there: TLS copies the file into its records, HTTP/2 into DATA frames."""
    certs = tlsutil.Certs(str(tmp_path))
    origin = Origin()
    listeners = [{"name": "http", "address": "127.0.0.1:0"},
                 {"name": "https", "address": "127.0.0.1:0", "tls": certs.tls_config()}]
    cfg = disk_config(factory, origin, tmp_path, listeners=listeners)
    size = 3 * MiB + 11
    origin.set("/both", headers=PUBLIC, size=size)
    gh = start(factory, cfg)
    assert get(gh, "/both", host="localhost").header("x-cache") == "MISS"
    body = tmp_path / "body"
    heads = tmp_path / "heads"
    out = tlsutil.curl_https(gh, certs, "/both", "-D", str(heads), "-o", str(body),
                             "-H", "Host: localhost")
    assert out.returncode == 0, out.stderr
    assert _x_cache(heads.read_text()) == "hit"
    assert hashlib.sha256(body.read_bytes()).hexdigest() == generated_sha256(size)
    out = ghtest.curl("--http2-prior-knowledge", "-D", str(heads), "-o", str(body),
                      "-H", "Host: localhost", gh.url("/both"))
    assert out.returncode == 0, out.stderr
    assert heads.read_text().startswith("HTTP/2 200") and _x_cache(heads.read_text()) == "hit"
    assert hashlib.sha256(body.read_bytes()).hexdigest() == generated_sha256(size)
    assert origin.count("/both") == 1


def test_a_small_chunked_response_goes_to_disk_and_is_kept_across_a_restart(factory, tmp_path):
    """Of unknown size when its fill starts, it is written to the disk; its hits copy it into
    memory (promotion) and the disk copy stays for the next start."""
    origin = Origin()
    cfg = disk_config(factory, origin, tmp_path)
    body = generated(5000)
    origin.set("/small", headers=PUBLIC, body=body, chunked=True)
    gh = start(factory, cfg)
    assert get(gh, "/small").header("x-cache") == "MISS"
    for _ in range(2):
        r = get(gh, "/small")
        assert r.header("x-cache") == "HIT" and r.body == body
    assert len(object_files(tmp_path)) == 1
    gh.stop()
    gh.expected_exit = True
    gh = start(factory, cfg)
    r = get(gh, "/small")
    assert r.header("x-cache") == "HIT" and r.body == body
    assert origin.count("/small") == 1
