# SPDX-License-Identifier: MIT
"""What a config needs from the filesystem is checked by `gatehouse check`, at start and at
reload, each problem at its line: a temp_path that is missing or that the `user:` cannot write,
an access log whose directory is missing, an OCSP staple for another certificate or past its
nextUpdate; a certificate not valid yet is a warning. Relative paths resolve against the config
file's directory."""
import datetime
import os
import re
import signal
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from ghtest import clean_env, gatehouse_bin, request, wait_for
from test_cli import run

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def config_text(backend="127.0.0.1:9", temp_path="/tmp", access_log=None, user=None,
                tls=None):
    """A config whose line numbers the tests rely on: `user:` is line 1, `temp_path:` line 3,
    the access log's `path:` line 5, a TLS listener's `cert:` line 11 and `ocsp_staple:` line 13.
    """
    lines = ["user: %s" % user if user else "# no user",
             "buffering:",
             "  temp_path: %s" % temp_path,
             "access_log:" if access_log else "# no access log",
             "  path: %s" % access_log if access_log else "#",
             "listeners:",
             "  - {name: http, address: \"127.0.0.1:0\"}"]
    if tls:
        lines += ["  - name: https",
                  "    address: \"127.0.0.1:0\"",
                  "    tls: {certificates: [{",
                  "        cert: %s," % tls[0]]
        if len(tls) > 2:
            lines += ["        key: %s," % tls[1], "        ocsp_staple: %s}]}" % tls[2]]
        else:
            lines += ["        key: %s}]}" % tls[1]]
    lines += ["pools:",
              "  app: {servers: [\"%s\"]}" % backend,
              "rules:",
              "  - {name: default, pool: app}"]
    return "\n".join(lines) + "\n"


def check(tmp_path, text, cwd=None):
    path = tmp_path / "gh.yaml"
    path.write_text(text)
    p = subprocess.run([gatehouse_bin(), "check", "-c", str(path)], capture_output=True,
                       text=True, timeout=30, env=clean_env(), cwd=cwd)
    return str(path), p.returncode, p.stdout + p.stderr


def test_a_missing_temp_path_is_refused_at_its_line(tmp_path):
    path, rc, out = check(tmp_path, config_text(temp_path=tmp_path / "nope"))
    assert rc == 1, out
    assert '%s:3:14: error: buffering.temp_path: directory "%s" does not exist' % (
        path, tmp_path / "nope") in out, out


def test_a_temp_path_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "file"
    f.write_text("")
    path, rc, out = check(tmp_path, config_text(temp_path=f))
    assert rc == 1, out
    assert '%s:3:14: error: buffering.temp_path: "%s" is not a directory' % (path, f) in out, out


root_only = pytest.mark.skipif(os.geteuid() != 0, reason="switching to `user:` needs root")


@root_only
def test_a_temp_path_the_user_cannot_write_is_refused(tmp_path):
    d = tmp_path / "root-only"
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    path, rc, out = check(tmp_path, config_text(temp_path=d, user="nobody"))
    assert rc == 1, out
    assert ('%s:3:14: error: buffering.temp_path: user "nobody" cannot write to "%s": '
            "Permission denied" % (path, d)) in out, out


def test_an_unknown_user_is_refused_at_its_line(tmp_path):
    path, rc, out = check(tmp_path, config_text(user="no-such-gatehouse-user"))
    assert rc == 1, out
    assert '%s:1:7: error: user: no such user "no-such-gatehouse-user"' % path in out, out


def test_an_access_log_in_a_missing_directory_is_refused_at_its_line(tmp_path):
    log = tmp_path / "no" / "access.log"
    path, rc, out = check(tmp_path, config_text(access_log=log))
    assert rc == 1, out
    assert '%s:5:9: error: access_log.path: directory "%s" does not exist' % (
        path, tmp_path / "no") in out, out


@root_only
def test_an_access_log_directory_the_user_cannot_write_is_refused(tmp_path):
    d = tmp_path / "logs"
    d.mkdir()
    os.chmod(d, 0o755)
    path, rc, out = check(tmp_path, config_text(access_log=d / "a.log", user="nobody"))
    assert rc == 1, out
    assert ('%s:5:9: error: access_log.path: user "nobody" cannot write to "%s": '
            "Permission denied" % (path, d)) in out, out


@pytest.mark.parametrize("special", ["/dev/stdout", "/dev/stderr", '"-"'])
def test_the_standard_streams_are_fine_as_access_logs(tmp_path, special):
    path, rc, out = check(tmp_path, config_text(access_log=special, user="nobody"))
    assert rc == 0, out
    assert "%s: ok" % path in out


def test_start_with_a_missing_temp_path_exits_non_zero_with_the_reason(tmp_path):
    path = tmp_path / "gh.yaml"
    path.write_text(config_text(temp_path=tmp_path / "nope"))
    rc, out = run("-c", str(path))
    assert rc != 0, out
    assert "%s:3:14: error: buffering.temp_path:" % path in out, out
    assert "listening:" not in out, out


def test_a_reload_to_a_missing_access_log_directory_is_refused_and_the_old_config_serves(
        factory, backend):
    gh = factory.gatehouse(config_text(backend=backend.address, temp_path=factory.tmpdir))
    assert request(gh).status == 200
    missing = factory.tmpdir / "gone" / "access.log"
    gh.write_config(config_text(backend=backend.address, temp_path=factory.tmpdir,
                                access_log=missing))
    os.kill(gh.pid, signal.SIGHUP)
    line = '%s:5:9: error: access_log.path: directory "%s" does not exist' % (
        gh.config_path, missing.parent)
    assert wait_for(lambda: line in gh.stderr(), timeout=10), gh.stderr()
    assert wait_for(lambda: "refused" in gh.stderr(), timeout=10), gh.stderr()
    assert gh.proc.poll() is None
    for _ in range(5):
        assert request(gh).status == 200


# Certificates and OCSP staples, made with the cryptography package: a self-signed leaf is its
# own issuer, so its staple's CertID names it and itself.

def make_pki(d, name, not_before=-30 * DAY):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW + not_before).not_valid_after(NOW + 90 * DAY)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
            .sign(key, hashes.SHA256()))
    crt, pem = d / (name + ".crt"), d / (name + ".key")
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    return cert, key, crt, pem


def write_staple(d, name, cert, key, next_update):
    resp = (ocsp.OCSPResponseBuilder()
            .add_response(cert=cert, issuer=cert, algorithm=hashes.SHA1(),
                          cert_status=ocsp.OCSPCertStatus.GOOD, this_update=NOW - DAY,
                          next_update=next_update, revocation_time=None, revocation_reason=None)
            .responder_id(ocsp.OCSPResponderEncoding.HASH, cert)
            .sign(key, hashes.SHA256()))
    p = d / (name + ".der")
    p.write_bytes(resp.public_bytes(serialization.Encoding.DER))
    return p


def test_a_current_staple_for_the_certificate_passes(tmp_path):
    cert, key, crt, pem = make_pki(tmp_path, "a")
    staple = write_staple(tmp_path, "a", cert, key, NOW + DAY)
    path, rc, out = check(tmp_path, config_text(tls=(crt, pem, staple)))
    assert rc == 0, out
    assert "%s: ok" % path in out


def test_a_staple_for_another_certificate_is_refused_at_its_line(tmp_path):
    _, _, crt, pem = make_pki(tmp_path, "a")
    other, other_key, _, _ = make_pki(tmp_path, "b")
    staple = write_staple(tmp_path, "b", other, other_key, NOW + DAY)
    path, rc, out = check(tmp_path, config_text(tls=(crt, pem, staple)))
    assert rc == 1, out
    assert re.search(r"^%s:13:22: error: listener https: OCSP response %s: it is for another "
                     r"certificate" % (re.escape(path), re.escape(str(staple))), out, re.M), out


def test_a_staple_past_its_next_update_is_refused_at_its_line(tmp_path):
    cert, key, crt, pem = make_pki(tmp_path, "a")
    staple = write_staple(tmp_path, "a", cert, key, NOW - 60 * datetime.timedelta(seconds=1))
    path, rc, out = check(tmp_path, config_text(tls=(crt, pem, staple)))
    assert rc == 1, out
    assert re.search(r"^%s:13:22: error: listener https: OCSP response %s: it is out of date: "
                     r"its nextUpdate was \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$" % (
                         re.escape(path), re.escape(str(staple))), out, re.M), out


def test_a_reload_with_a_stale_staple_is_refused_and_the_old_config_serves(factory, backend):
    d = factory.tmpdir
    cert, key, crt, pem = make_pki(d, "a")
    good = write_staple(d, "good", cert, key, NOW + DAY)
    stale = write_staple(d, "stale", cert, key, NOW - DAY)
    gh = factory.gatehouse(config_text(backend=backend.address, temp_path=d,
                                       tls=(crt, pem, good)))
    assert request(gh).status == 200
    gh.write_config(config_text(backend=backend.address, temp_path=d, tls=(crt, pem, stale)))
    os.kill(gh.pid, signal.SIGHUP)
    line = "%s:13:22: error: listener https: OCSP response %s: it is out of date" % (
        gh.config_path, stale)
    assert wait_for(lambda: line in gh.stderr(), timeout=10), gh.stderr()
    assert gh.proc.poll() is None
    for _ in range(5):
        assert request(gh).status == 200


def test_a_certificate_not_valid_yet_is_a_warning_at_its_line(tmp_path):
    _, _, crt, pem = make_pki(tmp_path, "future", not_before=2 * DAY)
    path, rc, out = check(tmp_path, config_text(tls=(crt, pem)))
    assert rc == 0, out
    assert re.search(r"^%s:11:15: warning: listener https: certificate %s \(.*\) is not valid "
                     r"until \d{4}-" % (re.escape(path), re.escape(str(crt))), out, re.M), out
    assert "%s: ok" % path in out


# Relative paths.

def test_relative_paths_resolve_against_the_config_files_directory(tmp_path):
    conf_dir = tmp_path / "etc"
    (conf_dir / "tmp").mkdir(parents=True)
    (conf_dir / "logs").mkdir()
    cert, key, _, _ = make_pki(conf_dir, "site")
    write_staple(conf_dir, "site", cert, key, NOW + DAY)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    text = config_text(temp_path="tmp", access_log="logs/access.log",
                       tls=("site.crt", "./site.key", "site.der"))
    path, rc, out = check(conf_dir, text, cwd=str(elsewhere))
    assert rc == 0, out
    # The same file elsewhere, named relative to the working directory: its names are looked for
    # beside it, not in the working directory, where they are.
    (elsewhere / "gh.yaml").write_text(text)
    p = subprocess.run([gatehouse_bin(), "check", "-c", "../elsewhere/gh.yaml"],
                       capture_output=True, text=True, timeout=30, env=clean_env(),
                       cwd=str(conf_dir))
    assert p.returncode == 1, p.stdout
    assert re.search(r'^\.\./elsewhere/gh\.yaml:11:15: error: .*cannot read "%s/\.\./elsewhere/'
                     r'site\.crt"' % re.escape(str(conf_dir)), p.stdout, re.M), p.stdout


def test_a_relative_access_log_is_written_in_the_config_files_directory(factory, backend):
    d = factory.tmpdir  # where factory.gatehouse writes the config file
    (d / "logs").mkdir()
    gh = factory.gatehouse(config_text(backend=backend.address, temp_path=".",
                                       access_log="logs/access.log"))
    assert os.path.dirname(gh.config_path) == str(d) and os.getcwd() != str(d)
    assert request(gh, target="/echo?relative").status == 200
    log = d / "logs" / "access.log"
    assert wait_for(lambda: log.exists() and "/echo?relative" in log.read_text(), timeout=10)
