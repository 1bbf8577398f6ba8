# SPDX-License-Identifier: MIT
"""One object for HTTP and HTTPS, hits over HTTP/2, the memory tier across a HUP, the access
log's cache field."""
import json
import os
import signal

import pytest

import ghtest
import tlsutil
from cacheutil import Origin, cache_stack, get

PUBLIC = [("Cache-Control", "public, max-age=60")]


def _status_of(text):
    for line in text.splitlines():
        if line.lower().startswith("x-cache:"):
            return line.split(":", 1)[1].strip()
    return None


def test_http_and_https_share_one_object(factory, tmp_path):
    certs = tlsutil.Certs(str(tmp_path))
    origin = Origin()
    listeners = [{"name": "http", "address": "127.0.0.1:0"},
                 {"name": "https", "address": "127.0.0.1:0", "tls": certs.tls_config()}]
    gh = factory.gatehouse(factory.config([origin.address], workers=1, listeners=listeners,
                                          cache={"status_header": "X-Cache"}))
    origin.set("/shared", headers=PUBLIC, body=b"both")
    assert get(gh, "/shared", host="localhost").header("x-cache") == "MISS"
    out = tlsutil.curl_https(gh, certs, "/shared", "-i", "-H", "Host: localhost")
    assert out.returncode == 0, out.stderr
    assert _status_of(out.stdout.decode()) == "HIT"
    assert out.stdout.endswith(b"both")
    assert origin.count("/shared") == 1


def test_http2_clients_get_hits(factory):
    origin, gh = cache_stack(factory)
    origin.set("/h2", headers=PUBLIC, body=b"over h2")
    assert get(gh, "/h2", host=gh.address).status == 200  # the Host curl sends
    out = ghtest.curl("--http2-prior-knowledge", "-i", gh.url("/h2"))
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert text.startswith("HTTP/2 200")
    assert _status_of(text) == "HIT"
    assert "\nage:" in text.lower()
    assert out.stdout.endswith(b"over h2")
    assert origin.count("/h2") == 1


def test_the_access_log_has_the_cache_status(factory, tmp_path):
    path = str(tmp_path / "access.json")
    origin, gh = cache_stack(factory, access_log={"path": path, "format": "json"})
    origin.set("/logged", headers=PUBLIC)
    get(gh, "/logged")
    get(gh, "/logged")
    assert ghtest.wait_for(lambda: os.path.exists(path) and
                           len(open(path).read().splitlines()) >= 2)
    lines = [json.loads(l) for l in open(path).read().splitlines()]
    assert [l["cache"] for l in lines[:2]] == ["MISS", "HIT"]


def test_the_memory_tier_stays_warm_across_a_hup(factory):
    origin = Origin()
    cfg = factory.config([origin.address], workers=1,
                         cache={"memory": "64MiB", "status_header": "X-Cache"})
    gh = factory.gatehouse(cfg)
    origin.set("/warm", headers=PUBLIC)
    get(gh, "/warm")
    workers = set(gh.workers())
    # A real change that shows on the next response: the status header's name.
    cfg["cache"]["status_header"] = "X-Cache-Status"
    gh.write_config(cfg)
    os.kill(gh.pid, signal.SIGHUP)
    assert ghtest.wait_for(lambda: any("config generation 1 serving" in l for l in gh.stderr_lines),
                           timeout=10), gh.stderr()
    assert set(gh.workers()) == workers  # the same worker process: swapped in place
    r = get(gh, "/warm")
    assert r.header("x-cache-status") == "HIT"
    assert not r.has("x-cache")
    assert origin.count("/warm") == 1
