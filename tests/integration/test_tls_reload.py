# SPDX-License-Identifier: MIT
"""Certificates follow the config on reload: new handshakes get the new certificate, connections
already up are untouched, sessions resume across the reload (the ticket keys stay), and a
certificate that cannot be used refuses the reload while the old one keeps serving."""
import os
import signal
import time

import pytest

from ghtest import build
import tlsutil

REQUEST = b"GET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"


def wait_for(predicate, timeout=5.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def served_cn(gh):
    rc, out = tlsutil.s_client(gh, "-servername", "localhost", "-ign_eof", stdin=REQUEST)
    return tlsutil.peer_cn(out) if "HTTP/1.1 200 OK" in out else None


@pytest.fixture
def setup(factory, backend, tmp_path):
    certs = tlsutil.Certs(str(tmp_path))
    new_crt, new_key = tlsutil.make_cert(str(tmp_path), "renewed", "renewed.test",
                                         tlsutil.DEFAULT_NAMES)
    cfg = tlsutil.tls_stack_config(factory, backend, certs)
    gh = factory.gatehouse(cfg)
    gh.certs = certs
    return gh, cfg, (new_crt, new_key)


def with_certificate(cfg, crt, key):
    new = dict(cfg)
    new["listeners"] = [dict(l) for l in cfg["listeners"]]
    tls = dict(new["listeners"][1]["tls"])
    tls["certificates"] = [{"cert": crt, "key": key}]
    new["listeners"][1]["tls"] = tls
    return new


def test_reload_serves_the_new_certificate_and_keeps_connections(setup, tmp_path):
    gh, cfg, (crt, key) = setup
    assert served_cn(gh) == "default.test"
    sess = str(tmp_path / "session.pem")
    rc, out = tlsutil.s_client(gh, "-tls1_3", "-sess_out", sess, "-ign_eof", stdin=REQUEST)
    assert "HTTP/1.1 200 OK" in out, out
    # A TLS connection with a request in flight across the reload, and an idle one: the worker
    # swaps the config in place, so both keep their session and go on.
    c = tlsutil.tls_connect(gh, gh.certs)
    c.send(build("GET", "/echo"))
    assert c.response().status == 200
    c.send(build("GET", "/bytes/1000?delay=1.0", close=True))
    idle = tlsutil.tls_connect(gh, gh.certs)
    idle.send(build("GET", "/echo"))
    assert idle.response().status == 200
    worker = gh.workers()
    time.sleep(0.2)

    gh.write_config(with_certificate(cfg, crt, key))
    os.kill(gh.pid, signal.SIGHUP)
    assert wait_for(lambda: served_cn(gh) == "renewed.test"), gh.stderr()
    assert gh.workers() == worker, "the reload replaced the worker process"

    r = c.response()
    assert r.status == 200 and r.complete and len(r.body) == 1000
    idle.send(build("GET", "/echo", close=True))
    assert idle.response().status == 200
    idle.close()
    c.close()
    # The ticket issued before the reload still opens a session after it.
    rc, out = tlsutil.s_client(gh, "-tls1_3", "-sess_in", sess, "-ign_eof", stdin=REQUEST)
    assert "Reused," in out, out


def test_reload_with_a_mismatched_key_is_refused(setup, tmp_path):
    gh, cfg, (crt, key) = setup
    gh.write_config(with_certificate(cfg, crt, gh.certs.other_key))
    os.kill(gh.pid, signal.SIGHUP)
    assert wait_for(lambda: "reload refused" in gh.stderr()), gh.stderr()
    assert gh.proc.poll() is None
    assert "does not match" in gh.stderr()
    for _ in range(3):
        assert served_cn(gh) == "default.test"
