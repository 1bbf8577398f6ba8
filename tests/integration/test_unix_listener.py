# SPDX-License-Identifier: MIT
"""`unix:` listeners: only a stale socket is ever replaced, a live one is "address in use", and the
socket file goes away at exit."""
import os
import signal
import socket
import stat
import subprocess
import time

import pytest

from ghtest import Client, TIMEOUT, build, clean_env, gatehouse_bin, to_yaml, wait_for


def _unix_config(factory, backend, path):
    return factory.config([backend.address],
                          listeners=[{"name": "local", "address": "unix:" + str(path)}])


def _get(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect(str(path))
    c = Client(s)
    try:
        c.send(build("GET", "/echo", close=True))
        return c.response()
    finally:
        c.close()


def _run(config_path, timeout=15):
    p = subprocess.Popen([gatehouse_bin(), "-c", str(config_path)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=clean_env())
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        pytest.fail("gatehouse did not exit within %ss:\n%s" % (timeout, out + err))
    return p.returncode, out + err


def test_a_regular_file_at_the_path_is_an_error_and_is_not_deleted(factory, backend, tmp_path):
    path = tmp_path / "app.sock"
    path.write_text("precious\n")
    cfg = tmp_path / "unix-file.yaml"
    cfg.write_text(to_yaml(_unix_config(factory, backend, path)) + "\n")
    rc, out = _run(cfg)
    assert rc == 1, out
    assert "not a socket" in out, out
    assert stat.S_ISREG(os.lstat(path).st_mode)
    assert path.read_text() == "precious\n"


def test_a_second_gatehouse_on_the_same_path_fails_with_address_in_use(factory, backend,
                                                                         tmp_path):
    path = tmp_path / "app.sock"
    first = factory.gatehouse(_unix_config(factory, backend, path))
    assert wait_for(lambda: os.path.exists(path))
    assert _get(path).status == 200
    cfg = tmp_path / "second.yaml"
    cfg.write_text(to_yaml(_unix_config(factory, backend, path)) + "\n")
    rc, out = _run(cfg)
    assert rc == 1, out
    assert "address in use" in out, out
    assert first.proc.poll() is None
    assert _get(path).status == 200, "the first gatehouse lost its socket"


def test_a_stale_socket_file_is_replaced(factory, backend, tmp_path):
    path = tmp_path / "app.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()  # the file stays, nobody accepts on it
    factory.gatehouse(_unix_config(factory, backend, path))
    assert wait_for(lambda: _get(path).status == 200)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGQUIT])
def test_the_socket_file_is_removed_at_exit(factory, backend, tmp_path, sig):
    path = tmp_path / "app.sock"
    gh = factory.gatehouse(_unix_config(factory, backend, path))
    assert _get(path).status == 200
    gh.expected_exit = True
    os.kill(gh.pid, sig)
    assert gh.proc.wait(10) == 0
    assert not os.path.exists(path), "socket file left behind"


def test_a_socket_file_replaced_by_someone_else_is_left_at_exit(factory, backend, tmp_path):
    path = tmp_path / "app.sock"
    gh = factory.gatehouse(_unix_config(factory, backend, path))
    assert _get(path).status == 200
    os.unlink(path)
    other = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    other.bind(str(path))
    other.listen(1)
    try:
        gh.expected_exit = True
        os.kill(gh.pid, signal.SIGTERM)
        assert gh.proc.wait(10) == 0
        assert stat.S_ISSOCK(os.lstat(path).st_mode), "removed another process's socket"
    finally:
        other.close()
