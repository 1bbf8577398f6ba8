# SPDX-License-Identifier: MIT
"""Helpers for gatehouse's integration tests: processes (gatehouse, tests/backend.py), a config
writer, a raw-socket HTTP/1.1 client and curl. Everything runs on loopback with ports bound to 0."""
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BACKEND_PY = os.path.join(REPO, "tests", "backend.py")
sys.path.insert(0, os.path.join(REPO, "tests"))
import backend as backend_mod  # noqa: E402  (pattern_bytes, pattern_sha256)

TIMEOUT = 5.0  # every socket operation in these tests is bounded by this
START_TIMEOUT = 10.0


def gatehouse_bin():
    """$GATEHOUSE_BIN, else build/gatehouse (or build/proxy/gatehouse) under the repository."""
    if os.environ.get("GATEHOUSE_BIN"):
        return os.path.abspath(os.environ["GATEHOUSE_BIN"])
    for rel in (("build", "gatehouse"), ("build", "proxy", "gatehouse")):
        path = os.path.join(REPO, *rel)
        if os.access(path, os.X_OK):
            return path
    return os.path.join(REPO, "build", "gatehouse")


_sanitized = {}


def sanitized_build():
    """True if the gatehouse binary has ASan in it (its memory use is not comparable then)."""
    path = gatehouse_bin()
    if path not in _sanitized:
        with open(path, "rb") as f:
            _sanitized[path] = b"__asan_init" in f.read()
    return _sanitized[path]


def _die_with_parent():
    """In the child: get SIGTERM if the test run itself is killed, so nothing is left behind."""
    import ctypes
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def clean_env():
    env = dict(os.environ)
    for k in list(env):
        if k.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            del env[k]
    return env


# ---------------------------------------------------------------------------------------- config

class Raw(str):
    """A scalar written as is, unquoted (e.g. `buffering: off` exactly as the docs show it)."""


def _scalar(v):
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    s = str(v)
    if re.fullmatch(r"[A-Za-z0-9_./-][A-Za-z0-9_./-]*", s) and s.lower() not in (
            "true", "false", "yes", "no", "on", "off", "null", "~"):
        return s
    return json.dumps(s)


def to_yaml(obj, indent=0):
    """Block-style YAML for dicts, lists and scalars: what an operator would write by hand."""
    pad = " " * indent
    lines = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (dict, list)) and v:
                lines.append("%s%s:" % (pad, k))
                lines.append(to_yaml(v, indent + 2))
            elif isinstance(v, list):
                lines.append("%s%s: []" % (pad, k))
            elif isinstance(v, dict):
                lines.append("%s%s: {}" % (pad, k))
            else:
                lines.append("%s%s: %s" % (pad, k, _scalar(v)))
    elif isinstance(obj, list):
        for item in obj:
            if isinstance(item, (dict, list)) and item:
                sub = to_yaml(item, indent + 2).split("\n")
                lines.append("%s- %s" % (pad, sub[0].lstrip()))
                lines.extend(sub[1:])
            else:
                lines.append("%s- %s" % (pad, _scalar(item)))
    else:
        lines.append(pad + _scalar(obj))
    return "\n".join(lines)


def merge(base, over):
    """Deep-merges |over| into a copy of |base| (dicts only; lists and scalars replace)."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        elif v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


def basic_config(servers, tmpdir, **over):
    """One listener on 127.0.0.1:0, pool `app` with |servers|, a default rule to it."""
    cfg = {
        "listeners": [{"name": "http", "address": "127.0.0.1:0"}],
        "timeouts": {"backend_connect": "2s", "backend_response": "10s"},
        "buffering": {"temp_path": str(tmpdir)},
        "pools": {"app": {"servers": list(servers)}},
        "rules": [{"name": "default", "pool": "app"}],
    }
    return merge(cfg, over)


# ------------------------------------------------------------------------------------- processes

def children(pid):
    """Pids whose parent is |pid| (scans /proc; works without CONFIG_PROC_CHILDREN)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(entry))
    return sorted(out)


class Backend:
    def __init__(self, listen="127.0.0.1:0", name="backend"):
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, BACKEND_PY, "--listen", listen, "--name", name],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
            preexec_fn=_die_with_parent)
        line = _readline_with_timeout(self.proc.stdout, START_TIMEOUT)
        m = re.match(r"listening: (\S+)", line or "")
        if not m:
            self.stop()
            raise RuntimeError("backend did not start: %r %s" % (line, self.proc.stderr.read()))
        self.address = m.group(1)
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()

    @property
    def hostport(self):
        host, _, port = self.address.rpartition(":")
        return host, int(port)

    def stats(self):
        """GET /stats straight from the backend, not through the proxy."""
        if self.address.startswith("unix:"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(TIMEOUT)
            s.connect(self.address[5:])
        else:
            s = socket.create_connection(self.hostport, timeout=TIMEOUT)
        c = Client(s)
        c.send(b"GET /stats HTTP/1.1\r\nHost: backend\r\nConnection: close\r\n\r\n")
        r = c.response()
        c.close()
        return json.loads(r.body)

    def entry(self, needle):
        """The last log entry whose target contains |needle|, or None."""
        for e in reversed(self.stats()["log"]):
            if needle in e["target"]:
                return e
        return None

    def stop(self):
        _stop(self.proc)


def _readline_with_timeout(stream, timeout):
    result = []
    t = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)
    t.start()
    t.join(timeout)
    return result[0] if result else None


def _stop(proc, sig=signal.SIGTERM, timeout=10):
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


class Gatehouse:
    """gatehouse -c FILE in the foreground; knows every listener's bound address."""

    def __init__(self, config, config_path):
        self.config_path = config_path
        self.write_config(config)
        self.stderr_lines = []
        self.listeners = {}
        self._ready = threading.Event()
        self.proc = subprocess.Popen([gatehouse_bin(), "-c", config_path],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     env=clean_env(), preexec_fn=_die_with_parent)
        self.pid = self.proc.pid
        self._workers = set()
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()
        expected = len(config.get("listeners", [])) if isinstance(config, dict) else 1
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if len(self.listeners) >= max(expected, 1) or self.proc.poll() is not None:
                break
            self._ready.wait(0.05)
        if not self.listeners:
            self.stop()
            raise RuntimeError("gatehouse did not report 'listening:' (exit %r); stderr:\n%s"
                               % (self.proc.returncode, self.stderr()))
        self.name, self.address = next(iter(self.listeners.items()))

    def write_config(self, config):
        text = config if isinstance(config, str) else to_yaml(config) + "\n"
        with open(self.config_path, "w") as f:
            f.write(text)

    def _drain(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.stderr_lines.append(line)
            m = re.search(r"listening: (\S+) (\S+)", line)
            if m and m.group(1) not in self.listeners:
                self.listeners[m.group(1)] = m.group(2)
                self._ready.set()

    def stderr(self):
        return "\n".join(self.stderr_lines)

    @property
    def hostport(self):
        return hostport(self.address)

    def connect(self, listener=None, rcvbuf=None):
        addr = hostport(self.listeners[listener]) if listener else self.hostport
        return connect(addr, rcvbuf=rcvbuf)

    def url(self, path="/"):
        return "http://%s%s" % (self.address, path)

    def workers(self):
        kids = children(self.pid)
        self._workers.update(kids)
        return kids

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.workers()
        rc = _stop(self.proc, sig, timeout)
        # A worker must not outlive its main process; clean up those we saw, by pid, if they
        # still run our binary.
        for pid in getattr(self, "_workers", ()):
            try:
                if os.path.realpath("/proc/%d/exe" % pid) == os.path.realpath(gatehouse_bin()):
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self._drainer.join(2)  # the last lines, sanitizer reports included
        return rc


def hostport(address):
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def free_port():
    """A loopback port that nothing listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ------------------------------------------------------------------------------------ HTTP client

def connect(addr, rcvbuf=None, timeout=TIMEOUT):
    s = socket.socket(socket.AF_INET6 if ":" in addr[0] else socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(addr)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return Client(s)


class Response:
    def __init__(self, version, status, reason, headers, body, complete, raw_head):
        self.version, self.status, self.reason = version, status, reason
        self.headers, self.body, self.complete, self.raw_head = headers, body, complete, raw_head
        self.interim = []  # 1xx responses that came before this one

    def header(self, name):
        vals = self.all(name)
        return ", ".join(vals) if vals else None

    def all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def has(self, name):
        return any(n.lower() == name.lower() for n, _ in self.headers)

    def tokens(self, name):
        return [t.strip().lower() for v in self.all(name) for t in v.split(",") if t.strip()]

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<Response %s %d %r complete=%s body=%d bytes>" % (
            self.version, self.status, self.headers, self.complete, len(self.body))


class Closed(Exception):
    pass


class Client:
    """A raw HTTP/1.1 client over one socket; reads responses strictly."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise Closed()
        self.buf += data

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            if len(self.buf) > 1 << 20:
                raise ValueError("line too long")
            self._fill()

    def _exact(self, n, sink):
        while n > 0:
            if not self.buf:
                self._fill()
            take = min(n, len(self.buf))
            sink(bytes(self.buf[:take]))
            del self.buf[:take]
            n -= take

    def head(self):
        """Reads one response head: (version, status, reason, headers, raw)."""
        status_line = self._line()
        raw = [status_line]
        m = re.fullmatch(rb"(HTTP/\d\.\d) (\d{3}) ?(.*)", status_line)
        if not m:
            raise ValueError("bad status line %r" % status_line)
        headers = []
        while True:
            line = self._line()
            raw.append(line)
            if not line:
                break
            name, sep, value = line.partition(b":")
            if not sep:
                raise ValueError("bad header line %r" % line)
            headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
        return (m.group(1).decode(), int(m.group(2)), m.group(3).decode("latin-1"), headers,
                b"\r\n".join(raw))

    def response(self, method="GET", keep_body=True, sink=None):
        """Reads the next final response (1xx kept in .interim). A body cut short by the peer
        closing comes back with complete=False; a missing head raises Closed."""
        interim = []
        while True:
            version, status, reason, headers, raw = self.head()
            if 100 <= status < 200 and status != 101:
                interim.append((status, headers))
                continue
            break
        body = bytearray()
        h = hashlib.sha256()
        count = [0]

        def take(data):
            count[0] += len(data)
            h.update(data)
            if sink:
                sink(data)
            if keep_body:
                body.extend(data)

        te = [t.strip().lower() for n, v in headers if n.lower() == "transfer-encoding"
              for t in v.split(",")]
        cls = [v for n, v in headers if n.lower() == "content-length"]
        complete = True
        try:
            if method == "HEAD" or status in (204, 304):
                pass
            elif te:
                if te[-1] != "chunked":
                    raise ValueError("response TE %r" % te)
                while True:
                    size_line = self._line()
                    size = int(size_line.split(b";")[0].strip(), 16)
                    if size == 0:
                        while self._line():
                            pass
                        break
                    self._exact(size, take)
                    if self._line() != b"":
                        raise ValueError("chunk data not followed by CRLF")
            elif cls:
                if len(set(cls)) != 1:
                    raise ValueError("response with Content-Length %r" % cls)
                self._exact(int(cls[0]), take)
            else:
                while True:
                    if self.buf:
                        take(bytes(self.buf))
                        self.buf.clear()
                    try:
                        self._fill()
                    except Closed:
                        break
        except (Closed, ConnectionResetError):
            complete = False
        r = Response(version, status, reason, headers, bytes(body), complete, raw)
        r.interim = interim
        r.length = count[0]
        r.sha256 = h.hexdigest()
        return r

    def closed_within(self, timeout=TIMEOUT):
        """True if the peer closes (EOF or reset) within |timeout|, discarding any bytes."""
        deadline = time.monotonic() + timeout
        self.buf.clear()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            finally:
                self.sock.settimeout(TIMEOUT)
            if not data:
                return True

    def exchange(self, data, method="GET"):
        self.send(data)
        return self.response(method=method)


def request(gh, method="GET", target="/echo", headers=(), body=None, host="test.example",
            version="HTTP/1.1"):
    """One request on a new connection to |gh| (or an (host, port) pair)."""
    c = gh.connect() if hasattr(gh, "connect") else connect(gh)
    try:
        c.send(build(method, target, headers, body, host, version, close=True))
        return c.response(method=method)
    finally:
        c.close()


def build(method="GET", target="/echo", headers=(), body=None, host="test.example",
          version="HTTP/1.1", close=False):
    lines = ["%s %s %s" % (method, target, version)]
    if host is not None:
        lines.append("Host: %s" % host)
    lines += ["%s: %s" % kv for kv in headers]
    if body is not None and not any(k.lower() in ("content-length", "transfer-encoding")
                                    for k, _ in headers):
        lines.append("Content-Length: %d" % len(body))
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def chunked(data, sizes=(1000, 7, 65536, 3)):
    out = bytearray()
    i = 0
    k = 0
    while i < len(data):
        n = sizes[k % len(sizes)]
        piece = data[i:i + n]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
        i += n
        k += 1
    return bytes(out + b"0\r\n\r\n")


def header_values(echo, name):
    return [v for n, v in echo["headers"] if n.lower() == name.lower()]


def assert_echoed(echo, body):
    """The backend's /echo saw exactly |body| (its length and sha256)."""
    assert echo["body_length"] == len(body)
    assert echo["body_sha256"] == hashlib.sha256(body).hexdigest()


def curl(*args, timeout=60):
    cmd = ["curl", "-sS", "--noproxy", "*", "--max-time", str(int(timeout)), *args]
    return subprocess.run(cmd, capture_output=True, timeout=timeout + 10, env=clean_env())


def wait_for(pred, timeout=TIMEOUT, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(interval)


def is_error_response(r, status):
    """Status |status|, a short text body; what every gatehouse error looks like."""
    assert r.status == status, r
    assert r.body, "error %d without a body" % status
    assert len(r.body) < 4096
    ctype = (r.header("content-type") or "").lower()
    assert ctype.startswith("text/"), r
    return True


class RawBackend:
    """Answers each request by its path from |answers| (path -> raw bytes), on every connection
    until the peer closes; counts connections and requests."""

    def __init__(self, answers):
        self.answers = answers
        self.connections = 0
        self.requests = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(c, self.connections), daemon=True).start()

    def _serve(self, c, conn_id):
        buf = b""
        c.settimeout(10)
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = c.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                path = head.split(b" ")[1].decode()
                self.requests.append((conn_id, path))
                c.sendall(self.answers[path.split("?")[0]])
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.sock.close()

