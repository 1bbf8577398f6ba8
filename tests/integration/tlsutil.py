# SPDX-License-Identifier: MIT
"""TLS helpers for the integration tests: certificates made with the openssl CLI at test time, a
gatehouse config with a TLS listener, Python and openssl s_client clients."""
import os
import re
import socket
import ssl
import subprocess

import ghtest

# The default certificate (ECDSA P-256) and one picked by SNI (RSA, with a wildcard).
DEFAULT_NAMES = "DNS:default.test,DNS:localhost,IP:127.0.0.1"
OTHER_NAMES = "DNS:other.test,DNS:*.wild.test"
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
EMPTY_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def _openssl(*args):
    out = subprocess.run(["openssl", *args], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode(errors="replace")


def make_cert(directory, stem, cn, sans, rsa=False):
    """Writes <stem>.crt and <stem>.key (self-signed) and returns their paths."""
    crt = os.path.join(directory, stem + ".crt")
    key = os.path.join(directory, stem + ".key")
    newkey = ["-newkey", "rsa:2048"] if rsa else ["-newkey", "ec", "-pkeyopt",
                                                  "ec_paramgen_curve:P-256"]
    _openssl("req", "-x509", *newkey, "-nodes", "-keyout", key, "-out", crt, "-days", "30",
             "-subj", "/CN=" + cn, "-addext", "subjectAltName=" + sans)
    return crt, key


class Certs:
    def __init__(self, directory):
        self.default_crt, self.default_key = make_cert(directory, "default", "default.test",
                                                       DEFAULT_NAMES)
        self.other_crt, self.other_key = make_cert(directory, "other", "other.test", OTHER_NAMES,
                                                   rsa=True)

    def tls_config(self, **over):
        cfg = {"certificates": [{"cert": self.default_crt, "key": self.default_key},
                                {"cert": self.other_crt, "key": self.other_key}],
               "alpn": ["h2", "http/1.1"]}
        cfg.update(over)
        return cfg


def tls_stack_config(factory, backend, certs, **over):
    """A plain listener `http` and a TLS listener `https`, one event loop."""
    listeners = [{"name": "http", "address": "127.0.0.1:0"},
                 {"name": "https", "address": "127.0.0.1:0", "tls": certs.tls_config()}]
    return factory.config([backend.address], workers=1, listeners=listeners, **over)


def https_addr(gh):
    return ghtest.hostport(gh.listeners["https"])


def client_context(certs, alpn=("http/1.1",), max_version=None):
    ctx = ssl.create_default_context(cafile=certs.default_crt)
    ctx.load_verify_locations(cafile=certs.other_crt)
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    if max_version:
        ctx.maximum_version = max_version
    return ctx


def tls_connect(gh, certs, server_hostname="localhost", ragged_eofs=True, **ctx_args):
    """A ghtest.Client over TLS to gatehouse's `https` listener; ragged_eofs=False makes a close
    without close_notify raise ssl.SSLEOFError."""
    raw = socket.create_connection(https_addr(gh), timeout=ghtest.TIMEOUT)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s = client_context(certs, **ctx_args).wrap_socket(raw, server_hostname=server_hostname,
                                                      suppress_ragged_eofs=ragged_eofs)
    return ghtest.Client(s)


def curl_https(gh, certs, path, *args, timeout=30):
    host, port = https_addr(gh)
    return ghtest.curl("--http1.1", "--cacert", certs.default_crt, "--resolve",
                       "localhost:%d:%s" % (port, host), *args,
                       "https://localhost:%d%s" % (port, path), timeout=timeout)


def s_client(gh, *args, stdin=b"", timeout=15):
    """openssl s_client against the `https` listener; returns (returncode, stdout+stderr text)."""
    host, port = https_addr(gh)
    out = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (host, port), *args],
                         input=stdin, capture_output=True, timeout=timeout)
    return out.returncode, (out.stdout + out.stderr).decode(errors="replace")


def peer_cn(text):
    m = re.search(r"subject=.*?CN ?= ?([^\s,/]+)", text)
    return m.group(1) if m else None


def spill_files(gh, tmpdir):
    """Open files of gatehouse's workers under |tmpdir| (spilled bodies; unlinked, still open)."""
    out = []
    for pid in gh.workers():
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.startswith(str(tmpdir) + "/"):
                out.append(target)
    return out
