#!/usr/bin/python3
"""The gateway over loopback: the real binary, a temporary SQLite file, real HTTP.

Starts floatcast-gateway --listen 127.0.0.1:0 --seed-demo with its own web
directory (index.html, a module, a .wasm, a symlink pointing outside), reads
the bound port from its first stdout line, and checks: /healthz; static files
and their MIME types, ETag/304 and HEAD; path traversal in every spelling is
refused with a 4xx and never leaks the file outside; keep-alive reuse;
pipelining; malformed requests, oversized headers and bodies answered with
400/413/414/431 while the server stays up; a slow request gets 408 (from a
gateway of its own with a short --request-timeout, so the shared one keeps
the default and no other test races a short timer); unknown
paths get a 404 JSON error; the projection (with the demo key printed at
start) equals the CLI's answer on the same demo data; SIGTERM ends the process with status 0 and, under the
sanitizers, without a report. Readiness is polled, never slept for: a busy
machine makes the tests slower, not different.

Usage: test_gateway.py --gateway PATH --cli PATH [-v] [unittest args]
Stdlib only (http.client, socket, subprocess, unittest).
"""
import argparse
import http.client
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwdb  # noqa: E402
from httpraw import read_response  # noqa: E402
import test_metered  # noqa: E402  (its record(): FC_API_RECORD)

ARGS = None
GW = {}  # proc, port, tmp, stderr path
SECRET = b"TOP-SECRET-do-not-serve\n"
WASM = b"\x00asm\x01\x00\x00\x00"
NOW = "2025-12-01T06:00:00Z"


def spawn(tmp, extra):
    """Starts the gateway; returns (proc, port, stderr path). With
    --seed-demo the second stdout line holds the demo key (GW["key"])."""
    err_path = os.path.join(tmp, "gateway%d.stderr" % len(os.listdir(tmp)))
    cmd = [ARGS.gateway, "--listen", "127.0.0.1:0", "--db", gwdb.arg(os.path.join(tmp, "gw.db")),
           "--anon-rate", "100000", "--anon-burst", "100000"] + extra
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    line = proc.stdout.readline().decode() if ready else ""
    if not line.startswith("listening on http://127.0.0.1:"):
        proc.kill()
        with open(err_path) as f:
            raise RuntimeError("gateway did not start: %r\n%s" % (line, f.read()))
    if "--seed-demo" in extra:
        GW["key"] = proc.stdout.readline().decode().split()[-1]
    return proc, int(line.rsplit(":", 1)[1].strip("/\n")), err_path


def start_gateway():
    tmp = tempfile.mkdtemp(prefix="fc-gw-test-")
    web = os.path.join(tmp, "web")
    os.makedirs(os.path.join(web, "sub"))
    with open(os.path.join(web, "index.html"), "w") as f:
        f.write("<!doctype html><title>Treasury</title>\n")
    with open(os.path.join(web, "app.mjs"), "w") as f:
        f.write("export const answer = 42;\n")
    with open(os.path.join(web, "floatcast.wasm"), "wb") as f:
        f.write(WASM)
    with open(os.path.join(web, "sub", "page.css"), "w") as f:
        f.write("body { margin: 0 }\n")
    with open(os.path.join(tmp, "secret.txt"), "wb") as f:
        f.write(SECRET)
    os.symlink(os.path.join(tmp, "secret.txt"), os.path.join(web, "escape.txt"))
    started = time.time()
    # A minute for a request to arrive whole: no test here sends slowly on
    # purpose (the 408 test has its own gateway), so only a stalled machine
    # could hit it, and that should not fail a test.
    proc, port, err_path = spawn(tmp, ["--web", web, "--seed-demo", "--request-timeout", "60000"])
    GW.update(started=started, proc=proc, port=port, tmp=tmp, err=err_path)


def stop_gateway():
    proc = GW.get("proc")
    if proc and proc.poll() is None:
        proc.kill()
        proc.wait()
    if proc:
        proc.stdout.close()
    if GW.get("tmp"):
        shutil.rmtree(GW["tmp"], ignore_errors=True)


def conn():
    return http.client.HTTPConnection("127.0.0.1", GW["port"], timeout=30)


def auth():
    return {"Authorization": "Bearer " + GW["key"]}


# The API's answers are recorded (FC_API_RECORD) for the OpenAPI check
# (tests/gateway/openapi/check.mjs), as test_metered.call() records them.
# Static files from --web are the page, not the API the document describes,
# so a path outside it is recorded only when the gateway answers it as the
# API does (a JSON error). The answers the HTTP layer gives before any route
# is matched (test_malformed_400, test_limits, the 408s) are recorded as such
# (record_refused: "layer":"http"), held to the document's
# x-unmatched-responses.request whatever their request line was. Left out:
# the targets of test_traversal_refused that are no path (no client
# generated from the document would send them), and the connections the
# connection limits close unanswered (nothing to record; the document says
# so in its description).
API_PATHS = ("/v1", "/healthz", "/metrics")


class RawAnswer:
    """A raw-socket answer (read_response) shaped as test_metered.record()
    reads an http.client response."""

    def __init__(self, status, headers):
        self.status, self.headers = status, headers

    def getheader(self, name, default=None):
        return self.headers.get(name.lower(), default)


def record(method, path, r, body):
    ctype = r.getheader("Content-Type", "") or ""
    if path.split("?")[0] in API_PATHS or path.startswith("/v1/") or \
            ctype.startswith("application/json"):
        test_metered.record(method, path, r, body)


def record_raw(method, path, answer):
    if answer is None:  # the server closed first: nothing to record
        return answer
    status, headers, body = answer
    record(method, path, RawAnswer(status, headers), body)
    return answer


def record_refused(data, answer):
    """Records a raw exchange the HTTP reader refused before routing (its
    request line, as far as it is one, names method and path); returns the
    answer."""
    if answer is None:
        return answer
    line = data.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
    method, path = line[0], line[1][:200] if len(line) > 1 else ""
    status, headers, body = answer
    test_metered.record(method, path, RawAnswer(status, headers), body, layer="http")
    return answer


def get(path, method="GET", headers=None):
    c = conn()
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    record(method, path, r, body)
    return r, body


def raw_socket():
    s = socket.create_connection(("127.0.0.1", GW["port"]), timeout=30)
    return s, s.makefile("rb")


def raw_exchange(data, head_only=False):
    s, f = raw_socket()
    s.sendall(data)
    r = read_response(f, head_only)
    f.close()
    s.close()
    return r


def probe_served(s):
    """A connection-limit probe: GET /healthz on s; True when it was
    answered (200, recorded), False when closed unanswered (refused)."""
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    with s.makefile("rb") as f:
        r = read_response(f)
    return r is not None and record_raw("GET", "/healthz", r)[0] == 200


def assert_error_json(tc, body, code=None):
    doc = json.loads(body)
    tc.assertIn("error", doc)
    tc.assertIsInstance(doc["error"]["message"], str)
    if code:
        tc.assertEqual(doc["error"]["code"], code)


class Gateway(unittest.TestCase):
    def assert_up(self):
        r, body = get("/healthz")
        self.assertEqual(r.status, 200)

    def test_healthz(self):
        r, body = get("/healthz")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "application/json")
        self.assertEqual(json.loads(body), {"status": "ok"})

    def test_static_types(self):
        cases = [("/", "text/html; charset=utf-8", b"<!doctype html><title>Treasury</title>\n"),
                 ("/index.html", "text/html; charset=utf-8", None),
                 ("/app.mjs", "text/javascript; charset=utf-8", b"export const answer = 42;\n"),
                 ("/floatcast.wasm", "application/wasm", WASM),
                 ("/sub/page.css", "text/css; charset=utf-8", None)]
        for path, ctype, content in cases:
            with self.subTest(path=path):
                r, body = get(path)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.getheader("Content-Type"), ctype)
                self.assertEqual(int(r.getheader("Content-Length")), len(body))
                self.assertEqual(r.getheader("Cache-Control"), "no-cache")
                if content is not None:
                    self.assertEqual(body, content)

    def test_static_etag_and_head(self):
        r, body = get("/app.mjs")
        etag = r.getheader("ETag")
        self.assertTrue(etag and etag.startswith('W/"'))
        r2, body2 = get("/app.mjs", headers={"If-None-Match": etag})
        self.assertEqual(r2.status, 304)
        self.assertEqual(body2, b"")
        r3, body3 = get("/app.mjs", headers={"If-None-Match": 'W/"other"'})
        self.assertEqual(r3.status, 200)
        status, headers, hbody = raw_exchange(
            b"HEAD /app.mjs HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", head_only=True)
        self.assertEqual(status, 200)
        self.assertEqual(int(headers["content-length"]), len(body))

    def test_traversal_refused(self):
        # Dot segments, encoded separators and NULs are refused as text (400);
        # a symlink out of the web directory after realpath (403); a path
        # that merely looks absolute stays inside the root (404).
        targets = {"/../secret.txt": 400, "/sub/../../secret.txt": 400,
                   "/%2e%2e/secret.txt": 400, "/%2E%2E/%2E%2E/secret.txt": 400,
                   "/..%2fsecret.txt": 400, "/sub%2f..%2f..%2fsecret.txt": 400,
                   "/%2fetc%2fpasswd": 400, "/sub/..%5c..%5csecret.txt": 400,
                   "/..\\secret.txt": 400, "//etc/passwd": 400, "/etc/passwd": 404,
                   "/./index.html": 400, "/sub/./page.css": 400, "/%00index.html": 400,
                   "/index.html%00.txt": 400, "/escape.txt": 403,
                   "http://127.0.0.1/../secret.txt": 400, "secret.txt": 400, "/%zz": 400}
        for t, want in targets.items():
            with self.subTest(target=t):
                status, headers, body = raw_exchange(
                    ("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % t).encode())
                if t.startswith("/"):  # a path a client could send: its JSON error is recorded
                    record_raw("GET", t, (status, headers, body))
                self.assertEqual(status, want)
                self.assertNotIn(b"TOP-SECRET", body)
                self.assertNotIn(b"root:", body)
                assert_error_json(self, body)
        self.assert_up()

    def test_keep_alive_reuse(self):
        s, f = raw_socket()
        for path in ["/healthz", "/app.mjs", "/healthz", "/nope.txt"]:
            s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path).encode())
            status, headers, body = record_raw("GET", path, read_response(f))
            self.assertEqual(headers["connection"], "keep-alive")
            self.assertEqual(status, 404 if path == "/nope.txt" else 200)
        s.close()
        c = conn()  # http.client over one socket
        for _ in range(3):
            c.request("GET", "/healthz")
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
            first = first if _ else c.sock
            self.assertIs(c.sock, first)
        c.close()

    def test_http10_closes(self):
        s, f = raw_socket()
        s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        status, headers, body = record_raw("GET", "/healthz", read_response(f))
        self.assertEqual(status, 200)
        self.assertEqual(headers["connection"], "close")
        self.assertEqual(f.read(), b"")  # the server closed
        s.close()

    def test_pipelining(self):
        s, f = raw_socket()
        paths = ["/healthz", "/app.mjs", "/v1/nope", "/floatcast.wasm", "/healthz"]
        reqs = b"".join(("GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % p).encode() for p in paths[:-1])
        reqs += b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        s.sendall(reqs)
        got = [record_raw("GET", p, read_response(f)) for p in paths]
        self.assertEqual([g[0] for g in got], [200, 200, 404, 200, 200])
        self.assertEqual(got[1][2], b"export const answer = 42;\n")
        self.assertEqual(got[3][2], WASM)
        self.assertEqual(got[3][1]["content-type"], "application/wasm")
        self.assertEqual(got[4][1]["connection"], "close")
        self.assertEqual(f.read(), b"")
        s.close()

    def test_pipelined_beyond_the_read_buffer(self):
        # 600 requests (more than the server's 16 KiB read buffer) in one
        # write: reads stop while each is served and resume after, so every
        # one is answered, in order.
        s, f = raw_socket()
        one = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Pad: %s\r\n\r\n" % (b"p" * 20)
        s.sendall(one * 599 + b"GET /v1/nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        got = [record_raw("GET", p, read_response(f))[0] for p in ["/healthz"] * 599 + ["/v1/nope"]]
        self.assertEqual(got, [200] * 599 + [404])
        self.assertEqual(f.read(), b"")
        s.close()

    def test_bytes_arriving_while_a_request_is_served(self):
        # The projection runs on the thread pool; the next request arrives
        # in pieces while it does and is answered after it.
        s, f = raw_socket()
        proj = ("GET /v1/reports/treasury/projection?horizon=48 HTTP/1.1\r\nHost: t\r\n"
                "Authorization: Bearer %s\r\n\r\n" % GW["key"]).encode()
        s.sendall(proj)
        for piece in [b"GET /hea", b"lthz HTTP/1.1\r\nHo", b"st: t\r\n\r\n"]:
            time.sleep(0.01)  # separate segments, not a wait: any timing passes
            s.sendall(piece)
        first = record_raw("GET", "/v1/reports/treasury/projection?horizon=48", read_response(f))
        second = record_raw("GET", "/healthz", read_response(f))
        self.assertEqual(first[0], 200)
        self.assertIn(b'"horizon_hours":48', first[2])
        self.assertEqual(second[0], 200)
        s.close()

    def test_half_closed_client_gets_its_answer(self):
        # A client that shuts down its sending side right after the request
        # (as `nc -N` does) still reads the whole answer, then EOF.
        s, f = raw_socket()
        s.sendall(("GET /v1/reports/treasury/projection?horizon=48 HTTP/1.1\r\nHost: t\r\n"
                   "Authorization: Bearer %s\r\n\r\n" % GW["key"]).encode())
        s.shutdown(socket.SHUT_WR)
        status, _, body = record_raw("GET", "/v1/reports/treasury/projection?horizon=48",
                                     read_response(f))
        self.assertEqual(status, 200)
        self.assertIn(b'"horizon_hours":48', body)
        self.assertEqual(f.read(), b"")
        s.close()

    def test_malformed_400(self):
        bad = [b"GARBAGE\r\n\r\n",
               b"GET / HTTP/9.9\r\nHost: t\r\n\r\n",
               b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n",
               b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
               b"GET / HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host
               b"GET /\x01 HTTP/1.1\r\nHost: t\r\n\r\n",
               b"GET / HTTP/1.1\r\nBad Header\r\n\r\n"]
        for data in bad:
            with self.subTest(data=data):
                status, headers, body = record_refused(data, raw_exchange(data))
                self.assertEqual(status, 400)
                self.assertEqual(headers["connection"], "close")
                assert_error_json(self, body, "bad_request")
        self.assert_up()

    def test_limits(self):
        big = "a" * 10000

        def refused(data):
            return record_refused(data, raw_exchange(data))
        status, _, body = refused(("GET / HTTP/1.1\r\nHost: t\r\nX-Big: %s\r\n\r\n" % big).encode())
        self.assertEqual(status, 431)
        assert_error_json(self, body)
        many = "".join("X-H%d: v\r\n" % i for i in range(100))
        status, _, body = refused(("GET / HTTP/1.1\r\nHost: t\r\n%s\r\n" % many).encode())
        self.assertEqual(status, 431)
        assert_error_json(self, body)
        status, _, body = refused(("GET /%s HTTP/1.1\r\nHost: t\r\n\r\n" % big).encode())
        self.assertEqual(status, 414)
        assert_error_json(self, body)
        status, _, body = refused(b"POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n")
        self.assertEqual(status, 413)
        assert_error_json(self, body)
        chunked = b"POST /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunked += b"".join(b"10000\r\n" + b"x" * 0x10000 + b"\r\n" for _ in range(17))
        s, f = raw_socket()
        try:
            s.sendall(chunked)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything
        status, _, body = record_refused(chunked, read_response(f))
        self.assertEqual(status, 413)
        assert_error_json(self, body)
        s.close()
        self.assert_up()

    def test_slow_request_408(self):
        proc, port, err_path = spawn(GW["tmp"], ["--request-timeout", "1500"])
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=60)
            f = s.makefile("rb")
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ")
            # the server gives up first
            status, headers, body = record_refused(b"GET /healthz HTTP/1.1", read_response(f))
            self.assertEqual(status, 408)
            assert_error_json(self, body, "timeout")
            f.close()
            s.close()
            s = socket.create_connection(("127.0.0.1", port), timeout=60)
            f = s.makefile("rb")
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            self.assertEqual(record_raw("GET", "/healthz", read_response(f))[0], 200)  # still up
            f.close()
            s.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=60), 0)
            proc.stdout.close()
        with open(err_path, errors="replace") as f:
            statuses = [json.loads(l)["status"] for l in f if l.startswith("{")]
        self.assertIn(408, statuses)  # the access log records the timeout

    def test_unknown_paths(self):
        for path in ["/v1/nope", "/v1", "/missing.html"]:
            with self.subTest(path=path):
                r, body = get(path)
                self.assertEqual(r.status, 404)
                self.assertEqual(r.getheader("Content-Type"), "application/json")
                assert_error_json(self, body, "not_found")
        r, body = get("/healthz", method="POST")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.getheader("Allow"), "GET, HEAD")
        assert_error_json(self, body, "method_not_allowed")

    def cli_projection(self, *extra):
        demo = os.path.join(GW["tmp"], "demo")
        if not os.path.isdir(demo):
            subprocess.run([ARGS.cli, "demo", "--out", demo], check=True)
        out = subprocess.run([ARGS.cli, "project", "--data", demo, "--horizon", "48",
                              "--method", "rule", "--json"] + list(extra),
                             check=True, stdout=subprocess.PIPE).stdout
        return out

    def test_projection_matches_cli(self):
        cases = [("?now=%s&horizon=48" % NOW, ["--now", NOW]),
                 ("?horizon=48", []),
                 ("?currency=USDC&now=%s" % NOW, ["--now", NOW, "--currency", "USDC"]),
                 ("?method=ml&currency=GBP&now=%s" % NOW, ["--now", NOW, "--currency", "GBP", "--method", "ml"])]
        for query, flags in cases:
            with self.subTest(query=query):
                r, body = get("/v1/reports/treasury/projection" + query, headers=auth())
                self.assertEqual(r.status, 200, body)
                self.assertEqual(r.getheader("Content-Type"), "application/json")
                cli = self.cli_projection(*flags)
                self.assertEqual(json.loads(body), json.loads(cli))
                doc = json.loads(body)
                self.assertEqual(doc["tenant_id"], "demo")
                self.assertEqual(doc["horizon_hours"], 48)
                if "currency=" in query:
                    want = query.split("currency=")[1].split("&")[0]
                    self.assertEqual([c["currency"] for c in doc["currencies"]], [want])
                self.assertEqual(doc["method"], "ml" if "method=ml" in query else "rule")

    def test_projection_bad_queries(self):
        base = "/v1/reports/treasury/projection"
        cases = [("?horizon=0", 400), ("?horizon=721", 400), ("?horizon=4x", 400),
                 ("?horizon=", 400), ("?now=garbage", 400), ("?now=2025-02-30", 400),
                 ("?currency=XYZ", 400), ("?currency=", 400), ("?currency=JPY", 404),
                 ("?foo=1", 400), ("?horizon=48&horizon=24", 400), ("?now=%zz", 400),
                 ("?method=magic", 400), ("?horizon=1e2", 400), ("?horizon=+5", 400),
                 ("?horizon=48.0", 400), ("?currency=ABCDEFGHIJKLM", 400), ("?paths=500", 400),
                 ("?floors=USDC%3D1", 400)]
        for query, want in cases:
            with self.subTest(query=query):
                r, body = get(base + query, headers=auth())
                self.assertEqual(r.status, want, body)
                assert_error_json(self, body)
        # The message is the option table's, as the CLI's --horizon says it;
        # the CLI's own options (paths, floors) are no query parameters.
        r, body = get(base + "?horizon=1e2", headers=auth())
        self.assertIn('horizon: want whole hours in 1..720, got \\"1e2\\"', body.decode(), body)
        r, body = get(base + "?paths=500", headers=auth())
        self.assertIn("unknown or repeated parameter 'paths'", body.decode(), body)
        self.assert_up()

    def test_connection_limit(self):
        # The held connections must stay open however slow the machine:
        # an hour of idle time instead of the default 5 s.
        proc, port, _ = spawn(GW["tmp"], ["--max-connections", "2", "--quiet",
                                          "--idle-timeout", "3600000"])
        try:
            held = []
            for _ in range(2):  # two connections, each surely accepted
                s = socket.create_connection(("127.0.0.1", port), timeout=30)
                f = s.makefile("rb")
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                self.assertEqual(record_raw("GET", "/healthz", read_response(f))[0], 200)
                held.append((s, f))
            extra = socket.create_connection(("127.0.0.1", port), timeout=30)
            try:
                extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                self.assertEqual(extra.recv(100), b"")  # closed unanswered
            except ConnectionResetError:
                pass
            extra.close()
            held[0][1].close()
            held[0][0].close()
            end = time.monotonic() + 120  # the slot frees once the server sees the close
            while True:
                s = socket.create_connection(("127.0.0.1", port), timeout=30)
                try:
                    if probe_served(s):
                        break
                except ConnectionResetError:
                    pass
                finally:
                    s.close()
                if time.monotonic() > end:
                    self.fail("a freed connection slot was not reused within 120 s")
                time.sleep(0.05)
            for s, f in held[1:]:
                f.close()
                s.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=60), 0)
            proc.stdout.close()

    def test_one_address_cannot_hold_every_slot(self):
        # 1,024 half-open connections from one address once held every
        # slot for the whole request timeout. Now one address holds at most
        # --max-connections-per-address of them and another (127.0.0.2:
        # all of 127/8 is loopback) is still served.
        proc, port, _ = spawn(GW["tmp"], ["--max-connections", "24",
                                          "--max-connections-per-address", "8",
                                          "--header-timeout", "120000",
                                          "--request-timeout", "120000", "--quiet"])
        held = []
        try:
            for _ in range(24):
                s = socket.create_connection(("127.0.0.1", port), timeout=30)
                held.append(s)
                try:
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")  # never finished
                except (BrokenPipeError, ConnectionResetError):
                    pass  # one over the cap, closed already
            other = socket.create_connection(("127.0.0.1", port), timeout=30,
                                             source_address=("127.0.0.2", 0))
            f = other.makefile("rb")
            other.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            self.assertEqual(record_raw("GET", "/healthz", read_response(f))[0], 200)
            f.close()
            other.close()
            # Exactly 8 of the first address's connections are kept; the
            # others were closed unanswered (wait by polling, generously).
            closed = set()
            deadline = time.time() + 60
            while len(closed) < 16 and time.time() < deadline:
                ready, _, _ = select.select([s for s in held if s not in closed], [], [], 1)
                for s in ready:
                    try:
                        data = s.recv(100)
                    except ConnectionResetError:
                        data = b""
                    self.assertEqual(data, b"")
                    closed.add(s)
            self.assertEqual(len(closed), 16)
            ready, _, _ = select.select([s for s in held if s not in closed], [], [], 0)
            self.assertEqual(ready, [])
            # Closing them gives the address its share back.
            for s in held:
                s.close()
            for _ in range(600):  # until the server has seen the closes
                s = socket.create_connection(("127.0.0.1", port), timeout=30)
                try:
                    if probe_served(s):
                        break
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    s.close()
                time.sleep(0.05)
            else:
                self.fail("the address never got its connections back")
        finally:
            for s in held:
                s.close()
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=60), 0)
            proc.stdout.close()

    def test_header_timeout_is_short_and_only_for_the_head(self):
        proc, port, _ = spawn(GW["tmp"], ["--header-timeout", "3000", "--request-timeout", "120000",
                                          "--idle-timeout", "120000", "--quiet"])
        try:
            started = time.time()
            body = socket.create_connection(("127.0.0.1", port), timeout=90)
            body.sendall(b"POST /v1/what-if HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{")
            # A whole exchange after it, so the server has read that head.
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=90)
            c.request("GET", "/healthz")
            self.assertEqual(c.getresponse().status, 200)
            c.close()
            silent = socket.create_connection(("127.0.0.1", port), timeout=90)
            partial = socket.create_connection(("127.0.0.1", port), timeout=90)
            partial.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
            self.assertEqual(silent.recv(100), b"")  # closed, nothing said
            pf = partial.makefile("rb")
            status, _, said = record_refused(b"GET /healthz HTTP/1.1", read_response(pf))
            self.assertEqual(status, 408)
            assert_error_json(self, said, "timeout")
            self.assertLess(time.time() - started, 100, "closed by the header timeout, not "
                                                        "the 120 s request timeout")
            # A complete head is past the header timeout: its body may come later.
            ready, _, _ = select.select([body], [], [], 0)
            self.assertEqual(ready, [])
            body.sendall(b"}")
            bf = body.makefile("rb")
            self.assertEqual(record_raw("POST", "/v1/what-if", read_response(bf))[0], 401)
            for x in (pf, bf, silent, partial, body):
                x.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=60), 0)
            proc.stdout.close()

    def test_zz_clean_shutdown(self):
        proc = GW["proc"]
        idle, idle_f = raw_socket()  # an idle keep-alive connection
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        self.assertEqual(read_response(idle_f)[0], 200)
        busy, busy_f = raw_socket()  # a request in progress
        busy.sendall(("GET /v1/reports/treasury/projection HTTP/1.1\r\nHost: t\r\n"
                      "Authorization: Bearer %s\r\n" % GW["key"]).encode())
        # Instead of sleeping until the server has read those bytes: a round
        # trip on a connection opened after them. The server accepts in
        # order and reads the earlier connection no later than this one, so
        # once this answer is back the partial request is being received.
        status, _, _ = raw_exchange(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        self.assertEqual(status, 200)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(idle_f.read(), b"")  # closed by the drain
        try:
            busy.sendall(b"\r\n")
            r = record_raw("GET", "/v1/reports/treasury/projection", read_response(busy_f))
        except (BrokenPipeError, ConnectionResetError):
            r = None
        if r is not None:  # answered, unless the signal won the race
            self.assertEqual(r[0], 200)
            self.assertEqual(r[1]["connection"], "close")
        for s, f in ((idle, idle_f), (busy, busy_f)):
            f.close()
            s.close()
        rc = proc.wait(timeout=60)
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", GW["port"]), timeout=5)
        with open(GW["err"], errors="replace") as f:
            err = f.read()
        self.assertEqual(rc, 0, err[-4000:])
        self.assertNotIn("Sanitizer", err)
        self.assertNotIn("runtime error", err)
        lines = [l for l in err.splitlines() if l.startswith("{")]
        self.assertTrue(lines)
        for l in lines:  # the access log is one JSON object per line
            rec = json.loads(l)
            self.assertIn(rec["status"], range(100, 600))
            # Durations count from a request's first byte: never negative,
            # never longer than this whole test run.
            self.assertGreaterEqual(rec["ms"], 0)
            self.assertLess(rec["ms"], 1000 * (time.time() - GW["started"]), l)
        statuses = [json.loads(l)["status"] for l in lines]
        self.assertIn(431, statuses)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--cli", required=True)
    ARGS, rest = ap.parse_known_args()
    start_gateway()
    try:
        prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    finally:
        stop_gateway()
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
