# SPDX-License-Identifier: MIT
"""HUP swaps the config inside the running worker: the same process serves the new generation,
requests in flight finish on the old one, connections (client and backend) stay, listeners come
and go, and what cannot be applied in place starts a new worker as before."""
import os
import re
import signal
import socket
import time

import pytest

from ghtest import build, free_port, request, wait_for


def _wait_line(gh, pattern, timeout=15, since=0):
    rx = re.compile(pattern)
    return wait_for(lambda: next((l for l in gh.stderr_lines[since:] if rx.search(l)), None),
                    timeout=timeout, interval=0.05)


def _reload(gh, config, generation):
    gh.write_config(config)
    since = len(gh.stderr_lines)
    os.kill(gh.pid, signal.SIGHUP)
    line = _wait_line(gh, r"reload: config generation %d serving|reload (failed|refused)" %
                      generation, since=since)
    assert line and "serving" in line, gh.stderr()


def _to(cfg, backend):
    """|cfg| with its pool on |backend| alone."""
    new = dict(cfg)
    new["pools"] = {"app": {"servers": [backend.address]}}
    return new


def _server(gh):
    r = request(gh)
    return r.json()["server"] if r.status == 200 else r.status


def _refused(hostport):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(hostport)
        return False
    except ConnectionRefusedError:
        return True
    finally:
        s.close()


def test_hup_keeps_the_worker_process_and_serves_the_new_config(factory):
    a, b = factory.backend(name="a"), factory.backend(name="b")
    cfg = factory.config([a.address])
    gh = factory.gatehouse(cfg)
    assert request(gh).json()["server"] == "a"
    worker = gh.workers()
    assert len(worker) == 1

    _reload(gh, _to(cfg, b), 1)
    for _ in range(5):
        assert _server(gh) == "b"
    _reload(gh, _to(cfg, a), 2)
    assert _server(gh) == "a"
    assert gh.workers() == worker, "the reload replaced the worker process"
    assert not any("started (config generation" in l and "generation 0" not in l
                   for l in gh.stderr_lines), gh.stderr()


def test_a_request_in_flight_finishes_on_the_config_it_started_with(factory):
    a, b = factory.backend(name="a"), factory.backend(name="b")
    cfg = factory.config([a.address])
    gh = factory.gatehouse(cfg)
    c = gh.connect()
    c.send(build("GET", "/bytes/1000?delay=1.0"))
    assert wait_for(lambda: a.stats()["heads"] >= 1, timeout=5)
    _reload(gh, _to(cfg, b), 1)
    assert _server(gh) == "b"
    r = c.response()
    assert r.status == 200 and r.complete and len(r.body) == 1000, "cut by the reload"
    assert b.stats()["log"] and not any("/bytes/" in e.get("target", "") for e in b.stats()["log"])
    # The same client connection, kept alive across the reload, gets the new config.
    c.send(build("GET", "/echo", close=True))
    r = c.response()
    assert r.status == 200 and r.json()["server"] == "b"
    c.close()


def test_an_idle_client_connection_made_before_the_hup_still_works_after_it(factory):
    a, b = factory.backend(name="a"), factory.backend(name="b")
    cfg = factory.config([a.address])
    gh = factory.gatehouse(cfg)
    c = gh.connect()
    c.send(build("GET", "/echo"))
    assert c.response().json()["server"] == "a"
    _reload(gh, _to(cfg, b), 1)
    time.sleep(0.3)  # an idle connection would be closed by now if the reload closed it
    c.send(build("GET", "/echo", close=True))
    r = c.response()
    assert r.status == 200 and r.json()["server"] == "b"
    c.close()


def test_an_idle_backend_connection_is_reused_after_the_hup(factory, backend):
    cfg = factory.config([backend.address], workers=1)
    gh = factory.gatehouse(cfg)
    first = request(gh).json()["connection"]["id"]
    assert request(gh).json()["connection"]["id"] == first
    other = factory.backend(name="other")
    new = dict(cfg)
    new["pools"] = {"app": {"servers": [backend.address]}, "other": {"servers": [other.address]}}
    new["rules"] = [{"name": "other", "match": {"path_prefix": "/other/"}, "pool": "other"},
                    {"name": "default", "pool": "app"}]
    _reload(gh, new, 1)
    assert request(gh, target="/other/x").json()["server"] == "other"
    assert request(gh).json()["connection"]["id"] == first, "the pooled connection was closed"
    assert backend.stats()["connections"] == 1


def test_a_listener_added_by_the_reload_accepts_and_a_removed_one_stops(factory, backend):
    listeners = [{"name": "http", "address": "127.0.0.1:%d" % free_port()},
                 {"name": "old", "address": "127.0.0.1:%d" % free_port()}]
    cfg = factory.config([backend.address], listeners=listeners)
    gh = factory.gatehouse(cfg)
    old = gh.connect("old")
    old.send(build("GET", "/echo"))
    assert old.response().status == 200
    old_hostport = old.sock.getpeername()
    new = dict(cfg)
    new["listeners"] = [listeners[0], {"name": "added", "address": "127.0.0.1:%d" % free_port()}]
    _reload(gh, new, 1)
    assert wait_for(lambda: "added" in gh.listeners, timeout=5)
    c = gh.connect("added")
    c.send(build("GET", "/echo", close=True))
    assert c.response().status == 200
    c.close()
    assert wait_for(lambda: _refused(old_hostport), timeout=5), "the removed listener accepts"
    # A connection accepted on the removed listener finishes as it is.
    old.send(build("GET", "/echo", close=True))
    assert old.response().status == 200
    old.close()
    assert request(gh).status == 200


def test_a_reload_the_worker_cannot_serve_keeps_the_old_config(factory, backend, tmp_path):
    # The access log is a FIFO nobody reads: it cannot be opened without blocking, and the
    # reload fails at once rather than hang.
    other = factory.backend(name="other")
    cfg = factory.config([backend.address])
    gh = factory.gatehouse(cfg)
    assert _server(gh) == "backend"
    worker = gh.workers()
    fifo = tmp_path / "access.fifo"
    os.mkfifo(fifo)
    bad = _to(cfg, other)
    bad["access_log"] = {"path": str(fifo)}
    gh.write_config(bad)
    started = time.monotonic()
    os.kill(gh.pid, signal.SIGHUP)
    failed = _wait_line(gh, r"reload failed")
    assert failed and time.monotonic() - started < 5, gh.stderr()
    assert "cannot open access log" in failed and "generation 0 keeps serving" in failed
    for _ in range(3):
        assert _server(gh) == "backend"
    assert gh.workers() == worker
    _reload(gh, _to(cfg, other), 1)
    assert _server(gh) == "other"


def test_a_change_of_workers_starts_a_new_worker_process(factory):
    a, b = factory.backend(name="a"), factory.backend(name="b")
    gh = factory.gatehouse(factory.config([a.address], workers=1))
    assert _server(gh) == "a"
    old = gh.workers()
    _reload(gh, factory.config([b.address], workers=2), 1)
    assert _wait_line(gh, r"reload: starting a new worker: the number of workers changed")
    assert _server(gh) == "b"
    assert wait_for(lambda: len(gh.workers()) == 1 and gh.workers() != old, timeout=5), \
        "the old worker did not retire"
    # The new worker reloads in place in its turn.
    now = gh.workers()
    _reload(gh, factory.config([a.address], workers=2), 2)
    assert _server(gh) == "a"
    assert gh.workers() == now


def test_a_new_access_log_path_is_opened_by_the_main_process(factory, backend, tmp_path):
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    cfg = factory.config([backend.address], access_log={"path": str(first)})
    gh = factory.gatehouse(cfg)
    request(gh, target="/before")
    assert wait_for(lambda: first.exists() and b"/before" in first.read_bytes(), timeout=5)
    _reload(gh, factory.config([backend.address], access_log={"path": str(second)}), 1)
    request(gh, target="/after")
    assert wait_for(lambda: second.exists() and b"/after" in second.read_bytes(), timeout=5)
    assert b"/after" not in first.read_bytes()


def test_a_worker_that_crashes_after_a_reload_in_place_restarts_with_the_new_config(factory):
    a, b = factory.backend(name="a"), factory.backend(name="b")
    cfg = factory.config([a.address])
    gh = factory.gatehouse(cfg)
    assert _server(gh) == "a"
    _reload(gh, _to(cfg, b), 1)
    old = gh.workers()
    os.kill(old[0], signal.SIGKILL)
    assert wait_for(lambda: gh.workers() and gh.workers() != old, timeout=5)
    assert _wait_line(gh, r"worker \d+ started \(config generation 1\)")
    assert wait_for(lambda: _server(gh) == "b", timeout=5)
    # ... and that new worker reloads in place too.
    now = gh.workers()
    _reload(gh, cfg, 2)
    assert _server(gh) == "a"
    assert gh.workers() == now


def test_tls_handshakes_under_way_during_a_certificate_swap_complete(factory, backend, tmp_path):
    # The old certificates' contexts live on while handshakes made on them are under way.
    import tlsutil
    from test_drain_fresh import REQUEST, MidHandshake, status_of
    certs = tlsutil.Certs(str(tmp_path))
    cfg = tlsutil.tls_stack_config(factory, backend, certs)
    gh = factory.gatehouse(cfg)
    gh.certs = certs
    mid = [MidHandshake(gh) for _ in range(3)]
    crt, key = tlsutil.make_cert(str(tmp_path), "renewed", "renewed.test", tlsutil.DEFAULT_NAMES)
    new = dict(cfg)
    new["listeners"] = [dict(l) for l in cfg["listeners"]]
    new["listeners"][1]["tls"] = dict(new["listeners"][1]["tls"],
                                      certificates=[{"cert": crt, "key": key}])
    for generation in (1, 2):  # twice: the first generation's contexts are dropped by then
        _reload(gh, new if generation == 1 else cfg, generation)
    for m in mid:
        assert status_of(m.request(REQUEST)) == 200


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a worker as user: nobody")
def test_a_worker_without_rights_to_the_keys_and_logs_reloads_them_in_place(factory, backend,
                                                                            tmp_path):
    """The worker runs as nobody and cannot read the key files (0600, root's): the main process
    reads them for it, and opens the new access log (as root, given to nobody)."""
    import pwd
    import shutil
    import tempfile
    import tlsutil
    certs = tlsutil.Certs(str(tmp_path))
    crt, key = tlsutil.make_cert(str(tmp_path), "renewed", "renewed.test", tlsutil.DEFAULT_NAMES)
    for f in (key, certs.default_key, certs.other_key):
        os.chmod(f, 0o600)
    d = tempfile.mkdtemp(prefix="gatehouse-reload-")
    try:
        os.chmod(d, 0o777)
        logs = d
        first = os.path.join(logs, "first.log")
        cfg = tlsutil.tls_stack_config(factory, backend, certs, user="nobody",
                                       buffering={"temp_path": d},
                                       access_log={"path": first})
        gh = factory.gatehouse(cfg)
        gh.certs = certs
        from test_tls_reload import served_cn, with_certificate
        assert served_cn(gh) == "default.test"
        worker = gh.workers()
        second = os.path.join(logs, "second.log")
        new = dict(with_certificate(cfg, crt, key), access_log={"path": second})
        _reload(gh, new, 1)
        assert served_cn(gh) == "renewed.test"
        assert gh.workers() == worker
        assert wait_for(lambda: os.path.exists(second) and os.path.getsize(second) > 0, timeout=5)
        assert os.stat(second).st_uid == pwd.getpwnam("nobody").pw_uid

        # Without `user:` the worker would keep running as nobody: a new worker starts.
        plain = dict(new)
        del plain["user"]
        _reload(gh, plain, 2)
        assert _wait_line(gh, r"reload: starting a new worker: the user changed")
        assert served_cn(gh) == "renewed.test"
        assert wait_for(lambda: len(gh.workers()) == 1 and gh.workers() != worker, timeout=5)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_a_new_disk_tier_directory_starts_a_new_worker_and_a_new_size_does_not(factory, backend,
                                                                               tmp_path):
    cache = {"memory": "8MiB", "disk": {"path": str(tmp_path / "c1"), "size": "64MiB"}}
    gh = factory.gatehouse(factory.config([backend.address], workers=1, cache=cache))
    assert wait_for(lambda: len(gh.workers()) == 1, timeout=5)  # listed once it has forked
    old = gh.workers()
    cache["disk"]["size"] = "32MiB"
    _reload(gh, factory.config([backend.address], workers=1, cache=cache), 1)
    assert gh.workers() == old  # the disk tier is resized in place
    cache["disk"]["path"] = str(tmp_path / "c2")
    _reload(gh, factory.config([backend.address], workers=1, cache=cache), 2)
    assert _wait_line(gh, r"reload: starting a new worker: cache.disk.path changed")
    assert wait_for(lambda: len(gh.workers()) == 1 and gh.workers() != old, timeout=5)
