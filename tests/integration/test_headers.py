# SPDX-License-Identifier: MIT
"""Header handling: hop-by-hop fields stop at the proxy both ways; forwarding fields are added."""
from ghtest import build, header_values

HOP_BY_HOP = ["connection", "keep-alive", "te", "upgrade", "proxy-connection", "x-hop-request"]


def test_hop_by_hop_request_fields_are_removed(stack):
    c = stack.gh.connect()
    r = c.exchange(build("GET", "/echo", headers=[
        ("Connection", "keep-alive, X-Hop-Request"),
        ("Keep-Alive", "timeout=5"),
        ("TE", "trailers"),
        ("Upgrade", "example/1"),
        ("Proxy-Connection", "keep-alive"),
        ("X-Hop-Request", "secret"),
        ("X-End-To-End", "kept"),
    ]))
    c.close()
    assert r.status == 200
    echo = r.json()
    names = [n.lower() for n, _ in echo["headers"]]
    for hop in HOP_BY_HOP:
        if hop == "connection":
            # gatehouse may send its own Connection field upstream, never the client's tokens.
            assert all("x-hop-request" not in v.lower() for v in header_values(echo, hop))
        else:
            assert hop not in names, "%s reached the backend" % hop
    assert header_values(echo, "x-end-to-end") == ["kept"]


def test_hop_by_hop_response_fields_are_removed(stack):
    c = stack.gh.connect()
    r = c.exchange(build("GET", "/hop"))
    c.close()
    assert r.status == 200 and r.body == b"hop"
    for hop in ("keep-alive", "te", "upgrade", "proxy-connection", "x-hop-response"):
        assert not r.has(hop), "%s reached the client: %r" % (hop, r.headers)
    assert "x-hop-response" not in r.tokens("connection")
    assert r.header("x-end-to-end") == "kept"


def test_forwarding_fields_are_added(stack):
    c = stack.gh.connect()
    r = c.exchange(build("GET", "/echo", host="www.example.test:8080"))
    c.close()
    echo = r.json()
    assert header_values(echo, "x-forwarded-for") == ["127.0.0.1"]
    assert header_values(echo, "x-forwarded-proto") == ["http"]
    assert header_values(echo, "x-forwarded-host") == ["www.example.test:8080"]
    assert header_values(echo, "host") == ["www.example.test:8080"]
    via = ", ".join(header_values(echo, "via"))
    assert "1.1 gatehouse" in via


def test_x_forwarded_for_is_appended_to(stack):
    c = stack.gh.connect()
    r = c.exchange(build("GET", "/echo", headers=[("X-Forwarded-For", "1.2.3.4")]))
    c.close()
    xff = header_values(r.json(), "x-forwarded-for")
    assert ", ".join(xff) == "1.2.3.4, 127.0.0.1"


def test_incoming_via_is_kept_and_appended_to(stack):
    c = stack.gh.connect()
    r = c.exchange(build("GET", "/echo", headers=[("Via", "1.0 upstream-cdn")]))
    c.close()
    via = ", ".join(header_values(r.json(), "via"))
    assert via.startswith("1.0 upstream-cdn") and "1.1 gatehouse" in via


def test_response_has_via_and_date(stack):
    c = stack.gh.connect()
    r = c.exchange(build("GET", "/echo"))  # the backend sends no Date here
    assert r.status == 200
    assert "1.1 gatehouse" in (r.header("via") or "")
    assert len(r.all("date")) == 1
    assert r.header("date").endswith(" GMT")
    r = c.exchange(build("GET", "/bytes/1"))  # here it does: still exactly one
    assert len(r.all("date")) == 1
    c.close()


def test_request_header_order_and_repeats_are_kept(stack):
    c = stack.gh.connect()
    r = c.exchange(build("GET", "/echo", headers=[
        ("X-A", "1"), ("X-B", "2"), ("X-A", "3"), ("Cookie", "a=1"), ("Cookie", "b=2")]))
    c.close()
    echo = r.json()
    assert header_values(echo, "x-a") == ["1", "3"] or header_values(echo, "x-a") == ["1, 3"]
    assert header_values(echo, "x-b") == ["2"]
