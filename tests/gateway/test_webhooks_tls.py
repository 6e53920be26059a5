#!/usr/bin/python3
"""https:// webhooks, over loopback (gateway/tls.h, webhooks.h).

A throw-away CA is made with the `openssl` CLI in a temporary directory and
the gateway is started with --webhook-ca naming it (and --webhook-allow for
loopback). Receivers are Python https servers on the address `localhost`
resolves to first, each with a certificate made for the test:

- signed by the CA for the name localhost: the alert is delivered, its
  Floatcast-Signature verifies, the receiver saw SNI "localhost"; to the
  same receiver by IP literal (no SNI, the certificate's IP entry checked)
  too;
- signed by the CA for another name: every attempt is refused with
  "certificate verify failed: hostname mismatch" in the delivery log and
  retried; the receiver never gets a request;
- for localhost but from a CA the gateway does not trust: refused the same
  way ("unable to get local issuer certificate"), nothing received.
(TLS 1.2+ is not tested: Debian's OpenSSL configuration refuses older
versions by itself, so such a test could not fail.)

Also: POST /v1/webhooks takes https:// URLs (bad ones are 400s that store
nothing), and a gateway whose --webhook-ca cannot be read does not start.
Waits poll with deadlines; nothing sleeps for a fixed time.

Usage: test_webhooks_tls.py --gateway PATH [unittest args]. Stdlib only
(plus the openssl CLI).
"""
import argparse
import http.server
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_metered as tm  # noqa: E402
import test_alerts as ta  # noqa: E402
from test_metered import G, call, make_tier, wait_for  # noqa: E402


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, cwd=G["tmp"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def make_ca(name):
    """<name>.key and <name>.pem: a self-signed CA."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + name,
            "-keyout", name + ".key", "-out", name + ".pem",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    return os.path.join(G["tmp"], name + ".pem")


def make_leaf(name, ca, san):
    """<name>.key and <name>.pem: a server certificate for `san` signed by
    the CA `ca` (made by make_ca)."""
    ext = os.path.join(G["tmp"], name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n" % san)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout", name + ".key",
            "-out", name + ".csr")
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
            "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", name + ".pem")
    return os.path.join(G["tmp"], name + ".pem"), os.path.join(G["tmp"], name + ".key")


def localhost_addr():
    """The address the gateway connects to for `localhost` (its first)."""
    ai = socket.getaddrinfo("localhost", 443, type=socket.SOCK_STREAM)[0]
    return ai[0], ai[4][0]


class TlsReceiver(ta.Receiver):
    """ta.Receiver over TLS with the given certificate: records every POST
    and the SNI names clients sent."""

    def __init__(self, cert, key):
        super().__init__()
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.sni = []
        self.handshakes_failed = 0

        def on_sni(sock, name, ctx):
            with self.lock:
                self.sni.append(name)
        self.ctx.sni_callback = on_sni

    def start(self):
        rec = self
        family, addr = localhost_addr()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with rec.lock:
                    rec.got.append((dict(self.headers), body))
                self.send_response(rec.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            address_family = family

            def get_request(self):
                # The handshake in the worker thread's first read would hide
                # its failure: done here, each failure counted.
                sock, peer = self.socket.accept()
                try:
                    return rec.ctx.wrap_socket(sock, server_side=True), peer
                except (ssl.SSLError, OSError):
                    with rec.lock:
                        rec.handshakes_failed += 1
                    sock.close()
                    raise

        self.server = Server((addr, 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def url(self, host="localhost"):
        return "https://%s:%d/hooks/floatcast?x=1" % (host, self.port)

    def failed(self):
        with self.lock:
            return self.handshakes_failed


def setUpModule():
    G["tmp"] = tempfile.mkdtemp(prefix="fc-gw-tls-")
    G["ca"] = make_ca("ca")
    make_ca("rogue")
    G["good"] = make_leaf("good", "ca", "DNS:localhost,IP:127.0.0.1,IP:::1")
    G["wrongname"] = make_leaf("wrongname", "ca", "DNS:elsewhere.example")
    G["untrusted"] = make_leaf("untrusted", "rogue", "DNS:localhost,IP:127.0.0.1,IP:::1")
    G["db"] = os.path.join(G["tmp"], "gw.db")
    allow = ["--webhook-allow", "127.0.0.1/32,::1/128", "--webhook-ca", G["ca"]]
    G["proc"], G["port"], _ = tm.spawn(G["db"], allow)
    make_tier("wide", 100000, 100000)
    G["n"] = 0


def tearDownModule():
    tm.tearDownModule()


def breach(tenant, key):
    """A treasury whose USDC breaks its floor within 48 h: one alert."""
    ta.seed_treasury(tenant, key)
    ta.settings(key)
    ta.ingest(key, "transfers", [ta.transfer(tenant, "big-1", "90000", "2025-12-02T12:00:00Z")])


class Registration(unittest.TestCase):
    def test_https_urls_accepted_bad_ones_refused(self):
        _, key = ta.tenant_key()
        hook = ta.webhook(key, "https://127.0.0.1:9/x")
        r, listed = call("GET", "/v1/webhooks", key)
        self.assertEqual([w["url"] for w in listed["webhooks"]], ["https://127.0.0.1:9/x"])
        for url in ("https://", "https:///x", "https://u:p@127.0.0.1/x", "https://127.0.0.1:0/x",
                    "https://127.0.0.1/x#f", "httpss://127.0.0.1/x"):
            r, doc = call("POST", "/v1/webhooks", key, {"url": url, "events": ["depletion.alert"]})
            self.assertEqual(r.status, 400, (url, doc))
            self.assertEqual(doc["error"]["code"], "invalid_field", (url, doc))
        # The SSRF policy is the same: a private address over https too.
        r, doc = call("POST", "/v1/webhooks", key, {"url": "https://10.1.2.3/x", "events": ["depletion.alert"]})
        self.assertEqual(r.status, 400, doc)
        self.assertEqual(doc["error"]["code"], "forbidden_target", doc)
        r, listed = call("GET", "/v1/webhooks", key)
        self.assertEqual([w["id"] for w in listed["webhooks"]], [hook["id"]])

    def test_unreadable_ca_file_does_not_start(self):
        db = os.path.join(G["tmp"], "noca.db")
        for bad in (os.path.join(G["tmp"], "missing.pem"), os.path.join(G["tmp"], "good.ext")):
            with self.assertRaises(RuntimeError) as cm:
                tm.spawn(db, ["--webhook-ca", bad])
            self.assertIn("--webhook-ca", str(cm.exception))
            self.assertIn(bad, str(cm.exception))


class Delivery(unittest.TestCase):
    def test_verified_delivery_signed_with_sni(self):
        """By name (SNI, the name checked) and by IP literal (no SNI, the
        address checked against the certificate's IP entry)."""
        tenant, key = ta.tenant_key()
        rec = TlsReceiver(*G["good"]).start()
        family, addr = localhost_addr()
        literal = addr if family == socket.AF_INET else "[%s]" % addr
        try:
            by_name = ta.webhook(key, rec.url())
            by_ip = ta.webhook(key, rec.url(literal))
            breach(tenant, key)
            wait_for("two deliveries over https", lambda: len(rec.received()) >= 2)
            got = {h["Host"]: (h, b) for h, b in rec.received()}
            self.assertEqual(sorted(got), sorted(["localhost:%d" % rec.port, "%s:%d" % (literal, rec.port)]))
            for host, hook in (("localhost", by_name), (literal, by_ip)):
                headers, body = got["%s:%d" % (host, rec.port)]
                ta.verify(self, hook["secret"], headers, body)
                event = json.loads(body)
                self.assertEqual(event["type"], "depletion.alert")
                self.assertEqual(headers["Floatcast-Event-Id"], event["id"])
                wait_for("the delivery logged",
                         lambda: [x["status_code"] for x in ta.deliveries(key, hook["id"])["deliveries"]] == [200])
                self.assertEqual(ta.deliveries(key, hook["id"])["pending"], 0)
            self.assertEqual(sorted(rec.sni, key=str), sorted(["localhost", None], key=str))
            self.assertEqual(len(rec.received()), 2)
        finally:
            rec.stop()

    def refused(self, rec, reason):
        """An alert to rec is refused at the handshake with `reason` in the
        delivery log, retried, and no request reaches rec."""
        tenant, key = ta.tenant_key()
        try:
            hook = ta.webhook(key, rec.url())
            breach(tenant, key)
            wait_for("two refused attempts", lambda: len(ta.deliveries(key, hook["id"])["deliveries"]) >= 2)
            d = ta.deliveries(key, hook["id"])
            self.assertEqual(d["pending"], 1)
            for x in d["deliveries"]:
                self.assertIsNone(x["status_code"], x)
                self.assertIn("TLS handshake failed", x["error"])
                self.assertIn(reason, x["error"])
            self.assertGreaterEqual(rec.failed(), 1)  # it did connect and try
            self.assertEqual(rec.received(), [])      # nothing was sent
        finally:
            rec.stop()

    def test_certificate_for_another_name_refused(self):
        self.refused(TlsReceiver(*G["wrongname"]).start(), "certificate verify failed: hostname mismatch")

    def test_untrusted_ca_refused(self):
        self.refused(TlsReceiver(*G["untrusted"]).start(), "certificate verify failed: unable to get local issuer")


# Last (classes run by name): SIGTERM, exit 0, no sanitizer report.
ZShutdown = tm.ZShutdown


if __name__ == "__main__":
    tm.main()
