# SPDX-License-Identifier: MIT
"""Fixtures: real gatehouse and backend processes on loopback, each stopped at teardown."""
import itertools
import os
import re

import pytest

import ghtest


# A worker dying of a fault (not of the SIGKILL a test sends) or a sanitizer report.
CRASH = re.compile(r"killed by signal (4|6|7|8|11)\b|signal SIG(SEGV|ABRT|BUS|FPE|ILL)|"
                   r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:")


def _report(g):
    tail = g.stderr_lines[-40:]
    if g.proc.poll() is not None and not getattr(g, "expected_exit", False):
        print("gatehouse %d exited on its own with %r" % (g.pid, g.proc.returncode))
    if tail:
        print("gatehouse stderr (last %d lines):\n%s" % (len(tail), "\n".join(tail)))


@pytest.fixture(scope="session", autouse=True)
def _binary_exists():
    if not os.access(ghtest.gatehouse_bin(), os.X_OK):
        pytest.exit("gatehouse binary not found at %s (set GATEHOUSE_BIN)" % ghtest.gatehouse_bin(),
                    returncode=1)


class _Factories:
    def __init__(self, tmpdir):
        self.tmpdir = tmpdir
        self.backends = []
        self.proxies = []
        self.n = itertools.count()

    def backend(self, listen="127.0.0.1:0", name="backend"):
        b = ghtest.Backend(listen, name)
        self.backends.append(b)
        return b

    def gatehouse(self, config):
        path = os.path.join(str(self.tmpdir), "gatehouse-%d.yaml" % next(self.n))
        g = ghtest.Gatehouse(config, path)
        self.proxies.append(g)
        return g

    def config(self, servers, **over):
        return ghtest.basic_config(servers, self.tmpdir, **over)

    def teardown(self):
        crashes = []
        for g in self.proxies:
            _report(g)
            g.stop()
            crashes += [l for l in g.stderr_lines if CRASH.search(l)]
        for b in self.backends:
            b.stop()
        if crashes:
            pytest.fail("gatehouse crashed or a sanitizer complained:\n" + "\n".join(crashes[:20]))


@pytest.fixture
def factory(tmp_path):
    f = _Factories(tmp_path)
    yield f
    f.teardown()


@pytest.fixture
def backend(factory):
    return factory.backend()


@pytest.fixture
def proxy(factory, backend):
    """gatehouse in front of one backend, with the default rule; workers: 1 for counting."""
    return factory.gatehouse(factory.config([backend.address], workers=1))


class Stack:
    def __init__(self, factory, **over):
        self.backend = factory.backend()
        self.gh = factory.gatehouse(factory.config([self.backend.address], **over))


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """One gatehouse (workers: auto) and one backend shared by a module's read-only tests."""
    f = _Factories(tmp_path_factory.mktemp("stack"))
    try:
        s = Stack(f)
    except BaseException:
        f.teardown()  # the backend already started must not outlive a gatehouse that did not
        raise
    yield s
    f.teardown()
