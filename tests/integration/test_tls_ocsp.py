# SPDX-License-Identifier: MIT
"""OCSP stapling as openssl s_client sees it: a certificate with `ocsp_staple:` sends that response
to clients that ask for one (status_request), in TLS 1.2 and 1.3; clients that do not ask get
none; a certificate without it sends none. `gatehouse check` refuses a staple it cannot use."""
import os
import re
import subprocess

import pytest

from conftest import _Factories
import ghtest
from test_cli import run


def _openssl(*args, cwd=None):
    out = subprocess.run(["openssl", *args], capture_output=True, timeout=60, cwd=cwd)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return out.stdout.decode(errors="replace")


class Pki:
    """A CA, a leaf for localhost signed by it, and a "good" OCSP response for the leaf signed by
    the CA (made with `openssl ocsp` from an index.txt, as a small responder would)."""

    def __init__(self, d):
        p = lambda name: os.path.join(d, name)
        self.ca_crt, self.ca_key = p("ca.crt"), p("ca.key")
        self.crt, self.key, self.ocsp = p("leaf.crt"), p("leaf.key"), p("leaf.ocsp.der")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        _openssl("req", "-x509", *ec, "-keyout", self.ca_key, "-out", self.ca_crt, "-days", "30",
                 "-subj", "/CN=gatehouse test CA",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature")
        _openssl("req", "-new", *ec, "-keyout", self.key, "-out", p("leaf.csr"),
                 "-subj", "/CN=localhost")
        with open(p("leaf.ext"), "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
        _openssl("x509", "-req", "-in", p("leaf.csr"), "-CA", self.ca_crt, "-CAkey", self.ca_key,
                 "-CAcreateserial", "-out", self.crt, "-days", "30", "-extfile", p("leaf.ext"))
        self.serial = _openssl("x509", "-in", self.crt, "-noout", "-serial").strip().split("=")[1]
        # index.txt (openssl ca's database): status, expiry, revocation date, serial, file, subject.
        with open(p("index.txt"), "w") as f:
            f.write("V\t491231235959Z\t\t%s\tunknown\t/CN=localhost\n" % self.serial)
        _openssl("ocsp", "-index", p("index.txt"), "-rsigner", self.ca_crt, "-rkey", self.ca_key,
                 "-CA", self.ca_crt, "-issuer", self.ca_crt, "-cert", self.crt,
                 "-respout", self.ocsp, "-ndays", "1")


def listener(name, pki, staple):
    cert = {"cert": pki.crt, "key": pki.key}
    if staple:
        cert["ocsp_staple"] = pki.ocsp
    return {"name": name, "address": "127.0.0.1:0", "tls": {"certificates": [cert]}}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(str(tmp_path_factory.mktemp("ocsp-pki")))


@pytest.fixture(scope="module")
def gh(tmp_path_factory, pki):
    f = _Factories(tmp_path_factory.mktemp("tls-ocsp"))
    try:
        backend = f.backend()
        g = f.gatehouse(f.config([backend.address], workers=1,
                                 listeners=[listener("stapled", pki, True),
                                            listener("bare", pki, False)]))
    except BaseException:
        f.teardown()
        raise
    yield g
    f.teardown()


def s_client(gh, name, *args):
    host, port = ghtest.hostport(gh.listeners[name])
    out = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (host, port),
                          "-servername", "localhost", *args],
                         input=b"", capture_output=True, timeout=15)
    text = (out.stdout + out.stderr).decode(errors="replace")
    assert "Verify return code" in text, text  # the handshake happened
    return text


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_the_staple_is_sent_to_a_client_that_asks(gh, pki, version):
    out = s_client(gh, "stapled", "-status", version, "-CAfile", pki.ca_crt)
    assert "OCSP Response Status: successful" in out, out
    assert re.search(r"Cert Status: good", out), out
    # The response is about this leaf (the serial s_client prints is upper-case hex).
    assert "Serial Number: %s" % pki.serial.upper() in out, out
    assert "Verify return code: 0 (ok)" in out, out


def test_no_staple_for_a_client_that_does_not_ask(gh, pki):
    out = s_client(gh, "stapled", "-CAfile", pki.ca_crt)
    assert "OCSP" not in out, out


def test_a_certificate_without_ocsp_staple_sends_none(gh, pki):
    out = s_client(gh, "bare", "-status", "-CAfile", pki.ca_crt)
    assert "OCSP response: no response sent" in out, out
    assert "OCSP Response Status" not in out, out


def check(tmp_path, pki, staple):
    path = tmp_path / "ocsp.yaml"
    path.write_text(ghtest.to_yaml({
        "listeners": [{"name": "https", "address": "127.0.0.1:0",
                       "tls": {"certificates": [{"cert": pki.crt, "key": pki.key,
                                                 "ocsp_staple": staple}]}}],
        "pools": {"app": {"servers": ["127.0.0.1:9"]}},
        "rules": [{"name": "default", "pool": "app"}]}) + "\n")
    return path, run("check", "-c", str(path))


def test_check_accepts_the_staple(tmp_path, pki):
    path, (rc, out) = check(tmp_path, pki, pki.ocsp)
    assert rc == 0, out
    assert "%s: ok" % path in out


def test_check_refuses_a_missing_staple_file(tmp_path, pki):
    missing = str(tmp_path / "absent.der")
    path, (rc, out) = check(tmp_path, pki, missing)
    assert rc == 1, out
    # Reported at the ocsp_staple: line, as any unreadable file of the config is.
    line = next(i for i, l in enumerate(path.read_text().split("\n"), 1) if "ocsp_staple:" in l)
    assert re.search(r"%s:%d:\d+: error: \S*ocsp_staple: cannot read \"%s\"" % (
        re.escape(str(path)), line, re.escape(missing)), out), out


def test_check_refuses_a_staple_that_is_not_der(tmp_path, pki):
    bad = tmp_path / "bad.der"
    bad.write_bytes(b"not an OCSP response")
    path, (rc, out) = check(tmp_path, pki, str(bad))
    assert rc == 1, out
    assert "OCSP" in out and "error" in out, out
