# SPDX-License-Identifier: MIT
"""`gatehouse check` and reloads look at the certificates of TLS listeners: unusable ones are
errors at their `cert:` line, ones close to expiry are warnings."""
import datetime
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from test_cli import run


def make_cert(dirpath, name, days_left=90, key=None, expired=False):
    """Writes NAME.crt and NAME.key (self-signed ECDSA P-256 for localhost) and returns their
    paths; `key` signs with that key but writes a fresh one (a mismatched pair)."""
    signing = key or ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    not_after = now - datetime.timedelta(days=1) if expired else now + datetime.timedelta(
        days=days_left)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(signing.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=30)).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
            .sign(signing, hashes.SHA256()))
    written = ec.generate_private_key(ec.SECP256R1()) if key else signing
    crt, pem = dirpath / (name + ".crt"), dirpath / (name + ".key")
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(written.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return crt, pem


def tls_config(crt, key):
    # `cert:` is on line 6.
    return """listeners:
  - name: https
    address: "127.0.0.1:0"
    tls:
      certificates:
        - cert: %s
          key: %s
pools:
  app:
    servers: ["127.0.0.1:9"]
rules:
  - name: default
    pool: app
""" % (crt, key)


def check(tmp_path, crt, key):
    path = tmp_path / "tls.yaml"
    path.write_text(tls_config(crt, key))
    rc, out = run("check", "-c", str(path))
    return path, rc, out


def test_a_good_certificate_passes(tmp_path):
    path, rc, out = check(tmp_path, *make_cert(tmp_path, "good"))
    assert rc == 0, out
    assert "%s: ok" % path in out


@pytest.mark.parametrize("case", ["mismatch", "expired", "missing-cert", "missing-key",
                                  "not-a-cert"])
def test_an_unusable_certificate_is_an_error_at_its_line(tmp_path, case):
    crt, key = make_cert(tmp_path, "c", expired=(case == "expired"),
                         key=ec.generate_private_key(ec.SECP256R1()) if case == "mismatch"
                         else None)
    if case == "missing-cert":
        crt = tmp_path / "absent.crt"
    elif case == "missing-key":
        key = tmp_path / "absent.key"
    elif case == "not-a-cert":
        crt.write_text("hello\n")
    path, rc, out = check(tmp_path, crt, key)
    assert rc == 1, out
    # A file that cannot be read is refused by the loader at its own line (`key:` is line 7).
    line = 7 if case == "missing-key" else 6
    assert re.search(r"^%s:%d:\d+: error: " % (re.escape(str(path)), line), out, re.M), out
    assert "PRIVATE KEY" not in out and "BEGIN" not in out
    expected = {"mismatch": "match", "expired": "expired", "missing-cert": "absent.crt",
                "missing-key": "absent.key", "not-a-cert": "c.crt"}[case]
    assert expected in out, out


def test_a_certificate_close_to_expiry_is_a_warning(tmp_path):
    path, rc, out = check(tmp_path, *make_cert(tmp_path, "soon", days_left=5))
    assert rc == 0, out
    assert re.search(r"^%s:6:\d+: warning: listener https: .*expire" % re.escape(str(path)), out,
                     re.M), out
    assert "%s: ok" % path in out
