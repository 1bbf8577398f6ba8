# SPDX-License-Identifier: MIT
"""The command line: `check`, `--version`, `--help`, and refusing to run on a bad file."""
import os
import re
import signal
import subprocess

import pytest

from ghtest import basic_config, children, clean_env, gatehouse_bin, to_yaml


def run(*args, timeout=10):
    """Runs gatehouse to completion; one that does not exit in time fails the test (its
    children, if any, are killed by pid)."""
    p = subprocess.Popen([gatehouse_bin(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=clean_env())
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        for pid in children(p.pid):
            os.kill(pid, signal.SIGKILL)
        p.kill()
        out, err = p.communicate()
        pytest.fail("gatehouse %s did not exit within %ss:\n%s%s" % (args, timeout, out, err))
    return p.returncode, out + err


def test_version():
    rc, out = run("--version")
    assert rc == 0
    assert "gatehouse" in out.lower() and re.search(r"\d+\.\d+\.\d+", out), out


def test_help():
    rc, out = run("--help")
    assert rc == 0
    assert "check" in out and "-c" in out, out


def test_check_accepts_a_good_file(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(to_yaml(basic_config(["127.0.0.1:9"], tmp_path)) + "\n")
    rc, out = run("check", "-c", str(path))
    assert rc == 0, out
    assert "%s: ok" % path in out.splitlines(), out


GOOD_TAIL = """pools:
  app:
    servers: ["127.0.0.1:9"]
rules:
  - name: default
    pool: app
"""

BAD_FILES = {
    "unknown-key": ("""listeners:
  - name: http
    address: "127.0.0.1:0"
    bogus_key: 1
""" + GOOD_TAIL, 4),
    "wrong-type": ("""workers: lots
listeners:
  - name: http
    address: "127.0.0.1:0"
""" + GOOD_TAIL, 1),
    "bad-duration": ("""listeners:
  - name: http
    address: "127.0.0.1:0"
timeouts:
  client_header: 10 parsecs
""" + GOOD_TAIL, 5),
    "bad-size": ("""listeners:
  - name: http
    address: "127.0.0.1:0"
limits:
  max_request_body: 1 gigabyte
""" + GOOD_TAIL, 5),
    "unknown-pool": ("""listeners:
  - name: http
    address: "127.0.0.1:0"
pools:
  app:
    servers: ["127.0.0.1:9"]
rules:
  - name: default
    pool: nope
""", 9),
    "not-yaml": ("""listeners:
  - name: http
    address: [unclosed
""", None),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_check_refuses_a_bad_file_with_its_line(tmp_path, name):
    text, line = BAD_FILES[name]
    path = tmp_path / ("%s.yaml" % name)
    path.write_text(text)
    rc, out = run("check", "-c", str(path))
    assert rc == 1, out
    errors = [l for l in out.splitlines() if l.startswith("%s:" % path)]
    assert errors, out
    for e in errors:
        assert re.fullmatch(re.escape(str(path)) + r":\d+:\d+: (error|warning): .+", e), e
    if line is not None:
        assert any(e.startswith("%s:%d:" % (path, line)) for e in errors), out
    if name == "unknown-key":
        assert any(e.startswith("%s:4:5: error:" % path) for e in errors), out
        assert "bogus_key" in out


def test_check_reports_every_problem(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text("""workers: lots
listeners:
  - name: http
    address: "127.0.0.1:0"
timeouts:
  client_header: 10 parsecs
limits:
  max_request_body: 1 gigabyte
pools:
  app:
    servers: ["127.0.0.1:9"]
rules:
  - name: default
    pool: nope
""")
    rc, out = run("check", "-c", str(path))
    assert rc == 1
    for line in (1, 6, 8, 14):
        assert re.search(r"^%s:%d:\d+: error: " % (re.escape(str(path)), line), out, re.M), \
            "no error for line %d:\n%s" % (line, out)


def test_check_missing_file(tmp_path):
    rc, out = run("check", "-c", str(tmp_path / "absent.yaml"))
    assert rc == 1
    assert "absent.yaml" in out


def test_run_refuses_a_bad_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_FILES["unknown-key"][0])
    rc, out = run("-c", str(path), timeout=5)
    assert rc != 0
    assert "bogus_key" in out and "listening:" not in out
