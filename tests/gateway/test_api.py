#!/usr/bin/python3
"""API conventions over loopback: X-Request-Id, the admin listings, the
ingestion answer's created/updated/unchanged counts, and the OpenAPI
document's structure (the document against the OpenAPI 3.1 schema, and every
answer of the suites against the document: tests/gateway/openapi, ctest
gateway_openapi).

Reuses test_metered.py's helpers (spawn, call, admin, ...) against a
gateway of its own on a temporary SQLite file, with the access log on.
Nothing waits for a fixed time: the access log and background work are
polled with deadlines of minutes, so a busy machine is slower, not
different.

Usage: test_api.py --gateway PATH [unittest args]. Stdlib only.
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import re
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_metered as tm  # noqa: E402
from test_metered import G, admin, call, make_key, make_tier, transactions, wait_for  # noqa: E402

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def setUpModule():
    G["tmp"] = tempfile.mkdtemp(prefix="fc-gw-api-")
    G["db"] = os.path.join(G["tmp"], "gw.db")
    G["proc"], G["port"], G["demo"] = tm.spawn(
        G["db"], ["--anon-rate", "100000", "--anon-burst", "100000"], seed=True, quiet=False)
    make_tier("wide", 100000, 100000)
    for t in ("acme", "beta"):
        r, doc = admin("POST", "/v1/admin/tenants", {"id": t, "name": t.title()})
        assert r.status == 201, doc
    G["a_doc"] = make_key("acme", "wide")
    G["a"] = G["a_doc"]["key"]
    G["b"] = make_key("beta", "wide")["key"]


def tearDownModule():
    tm.tearDownModule()


def log_lines():
    with open(G["db"] + ".stderr", "rb") as f:
        out = []
        for line in f.read().decode("utf-8", "replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out


def log_with(request_id):
    """The access-log line of request_id (polled: the line is written when
    the answer is handed to the socket, which may be a moment after the
    client read it)."""
    found = []

    def seen():
        found[:] = [d for d in log_lines() if d.get("request_id") == request_id]
        return found
    wait_for("the access-log line of " + request_id, seen)
    return found[0]


class RequestId(unittest.TestCase):
    def test_generated_unique_and_logged(self):
        ids = set()
        for _ in range(20):
            r, doc = call("GET", "/healthz")
            self.assertEqual(r.status, 200)
            rid = r.getheader("X-Request-Id")
            self.assertRegex(rid or "", HEX32)
            ids.add(rid)
        self.assertEqual(len(ids), 20)
        line = log_with(rid)
        self.assertEqual(line["route"], "healthz")
        self.assertEqual(line["status"], 200)

    def test_client_id_kept_echoed_logged(self):
        rid = "client-abc_123.~!" + "x" * 100
        r, doc = call("GET", "/v1/reports/treasury/projection?horizon=abc", G["demo"],
                      headers={"X-Request-Id": rid})
        self.assertEqual(r.status, 400, doc)
        self.assertEqual(r.getheader("X-Request-Id"), rid)
        self.assertEqual(doc["error"]["request_id"], rid)
        self.assertEqual(log_with(rid)["status"], 400)

    def test_invalid_client_id_replaced(self):
        for bad in ["", "has space", "x" * 129, "tab\there", "caf\u00e9".encode("utf-8").decode("latin-1")]:
            r, _ = call("GET", "/healthz", headers={"X-Request-Id": bad})
            self.assertEqual(r.status, 200)
            self.assertRegex(r.getheader("X-Request-Id") or "", HEX32, repr(bad))
        r, _ = call("GET", "/healthz", headers={"X-Request-Id": "x" * 128})
        self.assertEqual(r.getheader("X-Request-Id"), "x" * 128)

    def test_every_error_body_has_it(self):
        cases = [("GET", "/v1/nope", None, None),                      # 404
                 ("DELETE", "/healthz", None, None),                   # 405
                 ("GET", "/v1/usage", None, None),                     # 401
                 ("GET", "/v1/usage", "fc_000000000000_" + "0" * 48, None),  # 401 invalid key
                 ("POST", "/v1/transactions", G["a"], "{not json"),      # 400 invalid_body
                 ("POST", "/v1/transactions", G["a"], [{"id": "x"}]),    # 422 rows
                 ("POST", "/v1/transfers", G["a"], [{"tenant_id": "beta", "id": "t1",
                   "from_account_id": "a", "to_account_id": "b", "currency": "USD",
                   "amount": "1.00", "status": "completed",
                   "created_at": "2025-12-01T00:00:00Z"}]),              # 403 tenant_mismatch
                 ("POST", "/v1/admin/tenants", tm.ADMIN, {"id": "acme", "name": "x"}),  # 409
                 ("GET", "/v1/usage?x=%ff", G["a"], None)]               # 400 invalid_parameter
        for method, path, key, body in cases:
            r, doc = call(method, path, key, body)
            self.assertGreaterEqual(r.status, 400, (method, path))
            rid = r.getheader("X-Request-Id")
            self.assertRegex(rid or "", HEX32)
            self.assertIsNotNone(doc, (method, path, r.status))
            self.assertEqual(doc["error"]["request_id"], rid, (method, path, doc))
            self.assertIn("code", doc["error"])

    def test_malformed_request_has_one(self):
        import socket
        s = socket.create_connection(("127.0.0.1", G["port"]), timeout=60)
        s.sendall(b"GARBAGE\x01 / HTTP/1.1\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 400"), data)
        m = re.search(rb"X-Request-Id: ([0-9a-f]{32})(?:\r\n|$)", head)
        self.assertIsNotNone(m, head)
        self.assertEqual(json.loads(body)["error"]["request_id"], m.group(1).decode())


def retraining(key):
    r, doc = call("GET", "/v1/models", key)
    assert r.status == 200, doc
    return doc["retraining"]


def idle(key):
    rt = retraining(key)
    return rt["running"] is None and rt["queued"] is None


class IngestCounts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        r, doc = admin("POST", "/v1/admin/tenants", {"id": "ing", "name": "Ing"})
        assert r.status == 201, doc
        cls.key = make_key("ing", "wide")["key"]

    def test_transactions_created_updated_unchanged(self):
        rows = transactions(7, days=30, users=6)
        n = len(rows)
        r, doc = call("POST", "/v1/transactions", self.key, rows)
        self.assertEqual(r.status, 200, doc)
        self.assertEqual((doc["stored"], doc["created"], doc["updated"], doc["unchanged"]),
                         (n, n, 0, 0))
        self.assertIsInstance(doc["retrain_job"], int)
        wait_for("the first retraining", lambda: idle(self.key), deadline=600)
        last = retraining(self.key)["last"]

        # The same rows again: all unchanged, no job queued, the cache kept.
        r, doc = call("POST", "/v1/transactions", self.key, rows)
        self.assertEqual(r.status, 200, doc)
        self.assertEqual((doc["stored"], doc["created"], doc["updated"], doc["unchanged"]),
                         (n, 0, 0, n))
        self.assertIn("retrain_job", doc)
        self.assertIsNone(doc["retrain_job"])
        rt = retraining(self.key)
        self.assertIsNone(rt["queued"], rt)
        self.assertIsNone(rt["running"], rt)
        self.assertEqual(rt["last"], last)

        # One row changed, one new: updated 1, created 1, a job again.
        rows2 = [dict(x) for x in rows]
        rows2[3]["amount"] = "%.2f" % (float(rows2[3]["amount"]) + 1)
        rows2.append(dict(rows[0], id="brand-new"))
        r, doc = call("POST", "/v1/transactions", self.key, rows2)
        self.assertEqual(r.status, 200, doc)
        self.assertEqual((doc["stored"], doc["created"], doc["updated"], doc["unchanged"]),
                         (n + 1, 1, 1, n - 1))
        self.assertIsInstance(doc["retrain_job"], int)
        wait_for("the second retraining", lambda: idle(self.key), deadline=600)

    def test_accounts_and_repeats_in_one_batch(self):
        acc = [{"id": "op-%d" % i, "tenant_id": "ing", "currency": "USD",
                "balance_available": "%d.00" % (100 + i)} for i in range(3)]
        r, doc = call("POST", "/v1/accounts", self.key, acc)
        self.assertEqual((doc["created"], doc["updated"], doc["unchanged"]), (3, 0, 0), doc)
        r, doc = call("POST", "/v1/accounts", self.key, acc)
        self.assertEqual((doc["created"], doc["updated"], doc["unchanged"], doc["stored"]),
                         (0, 0, 3, 3), doc)
        self.assertIsNone(doc["retrain_job"])
        # One changed, one new, two as they were.
        mixed = [dict(acc[0], balance_available="1.00"), acc[1], acc[2], dict(acc[0], id="op-9")]
        r, doc = call("POST", "/v1/accounts", self.key, "\n".join(json.dumps(x) for x in mixed))
        self.assertEqual((doc["created"], doc["updated"], doc["unchanged"], doc["stored"]),
                         (1, 1, 2, 4), doc)
        self.assertIsInstance(doc["retrain_job"], int)


class AdminListings(unittest.TestCase):
    def secrets(self):
        """Every key issued in this run, its 48-hex secret part and the hex
        and raw forms of its SHA-256 (what the database keeps)."""
        out = []
        for k in G["issued"]:
            h = hashlib.sha256(k.encode()).digest()
            out += [k, k.rsplit("_", 1)[1], h.hex(), h.hex().upper(), base64.b64encode(h).decode()]
        return out

    def get(self, path):
        r, doc = admin("GET", path)
        self.assertEqual(r.status, 200, doc)
        self.assertEqual(r.getheader("Cache-Control"), "no-store")
        return doc

    @classmethod
    def setUpClass(cls):
        r, doc = admin("POST", "/v1/admin/tenants", {"id": "lst", "name": "Listed"})
        assert r.status == 201, doc
        k1 = make_key("lst", "wide")
        k2 = make_key("lst", "free")
        r, rot = admin("POST", "/v1/admin/keys/%s/rotate" % k2["id"])
        assert r.status == 201, rot
        r, doc = call("GET", "/v1/usage", k1["key"])  # a metered call: k1 has a last use
        assert r.status == 200, doc
        cls.k1, cls.k2, cls.rot = k1, k2, rot
        G["issued"] = [G["a"], G["b"], G["demo"], k1["key"], k2["key"], rot["key"]]

    def test_tenants(self):
        doc = self.get("/v1/admin/tenants")
        ids = [t["id"] for t in doc["tenants"]]
        self.assertEqual(doc["count"], len(ids))
        for t in ("acme", "beta", "lst", "demo"):
            self.assertIn(t, ids)
        lst = [t for t in doc["tenants"] if t["id"] == "lst"][0]
        self.assertEqual((lst["name"], lst["keys"], lst["active_keys"]), ("Listed", 3, 2))
        self.assertRegex(lst["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_keys(self):
        doc = self.get("/v1/admin/keys?tenant_id=lst")
        self.assertEqual(doc["count"], 3)
        by_id = {k["id"]: k for k in doc["keys"]}
        self.assertEqual(set(by_id), {self.k1["id"], self.k2["id"], self.rot["id"]})
        for k in doc["keys"]:
            self.assertEqual(set(k), {"id", "prefix", "tenant_id", "tier", "created_at", "revoked",
                                      "revoked_at", "last_used_hour"})
            self.assertEqual(k["prefix"], "fc_%s_" % k["id"])
            self.assertEqual(k["tenant_id"], "lst")
        self.assertTrue(by_id[self.k2["id"]]["revoked"])
        self.assertIsNotNone(by_id[self.k2["id"]]["revoked_at"])
        self.assertFalse(by_id[self.rot["id"]]["revoked"])
        self.assertEqual(by_id[self.rot["id"]]["tier"], "free")
        # Usage commits before the answer is written, so k1's use is already there.
        self.assertIsNotNone(by_id[self.k1["id"]]["last_used_hour"])
        self.assertIsNone(by_id[self.rot["id"]]["last_used_hour"])
        every = self.get("/v1/admin/keys")
        self.assertGreaterEqual(every["count"], 6)
        self.assertEqual({k["tenant_id"] for k in every["keys"]} >= {"acme", "beta", "lst", "demo"},
                         True)
        r, doc = admin("GET", "/v1/admin/keys?tenant_id=nobody")
        self.assertEqual((r.status, doc["error"]["code"]), (404, "not_found"))
        for q in ("tenant=lst", "tenant_id=lst&tenant_id=lst", "tenant_id=" + "x" * 160):
            r, doc = admin("GET", "/v1/admin/keys?" + q)
            self.assertEqual((r.status, doc["error"]["code"]), (400, "invalid_parameter"), q)
        r, doc = admin("GET", "/v1/admin/keys?tenant_id=" + "x" * 159)  # fits: an unknown tenant
        self.assertEqual(r.status, 404, doc)

    def test_tiers(self):
        doc = self.get("/v1/admin/tiers")
        names = [t["name"] for t in doc["tiers"]]
        self.assertEqual(doc["count"], len(names))
        for t in ("free", "pro", "enterprise", "wide"):
            self.assertIn(t, names)
        wide = [t for t in doc["tiers"] if t["name"] == "wide"][0]
        self.assertEqual((wide["rate_per_second"], wide["burst"]), (100000, 100000))

    def test_no_secret_anywhere(self):
        secrets = self.secrets()
        for path in ("/v1/admin/tenants", "/v1/admin/keys", "/v1/admin/keys?tenant_id=lst",
                     "/v1/admin/tiers"):
            c = http.client.HTTPConnection("127.0.0.1", G["port"], timeout=60)
            c.request("GET", path, headers={"Authorization": "Bearer " + tm.ADMIN})
            resp = c.getresponse()
            raw = resp.read().decode() + str(resp.getheaders())
            c.close()
            for sec in secrets:
                self.assertNotIn(sec, raw, path)
            self.assertNotIn("hash", raw, path)

    def test_admin_only(self):
        for path in ("/v1/admin/tenants", "/v1/admin/keys", "/v1/admin/tiers"):
            r, doc = call("GET", path)
            self.assertEqual(r.status, 401, (path, doc))
            r, doc = call("GET", path, G["a"])
            self.assertIn(r.status, (401, 403), (path, doc))
            self.assertNotIn("keys", doc or {})


HERE = os.path.dirname(os.path.abspath(__file__))
ROUTER = os.path.join(HERE, "..", "..", "gateway", "router.c")
DOC = os.path.join(HERE, "..", "..", "gateway", "openapi.json")


def router_routes():
    """(method, pattern) of every line of router.c's route table."""
    with open(ROUTER) as f:
        text = f.read()
    table = text[text.index("static const gw_route routes[]"):text.index("};")]
    return re.findall(r'\{"(GET|POST|PUT|PATCH|DELETE)", "([^"]+)"', table)


class OpenApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        r, cls.doc = call("GET", "/v1/openapi.json")  # no key
        assert r.status == 200, cls.doc
        cls.ctype = r.getheader("Content-Type")

    def test_served_without_key_as_the_file(self):
        self.assertEqual(self.ctype, "application/json")
        with open(DOC) as f:
            self.assertEqual(self.doc, json.load(f))
        r, _ = call("HEAD", "/v1/openapi.json")
        self.assertEqual(r.status, 200)

    def test_structure(self):
        d = self.doc
        self.assertRegex(d["openapi"], r"^3\.1\.\d+$")
        self.assertTrue(d["info"]["title"] and d["info"]["version"])
        self.assertIsInstance(d["paths"], dict)
        for name in ("partnerKey", "adminKey"):
            self.assertEqual(d["components"]["securitySchemes"][name]["scheme"], "bearer")
        err = d["components"]["schemas"]["Error"]["properties"]["error"]
        self.assertEqual(set(err["required"]), {"request_id", "code", "message"})
        ingest = d["components"]["schemas"]["IngestResult"]["properties"]
        for k in ("stored", "created", "updated", "unchanged", "retrain_job"):
            self.assertIn(k, ingest)

    def test_every_route_and_only_routes(self):
        routes = router_routes()
        self.assertGreaterEqual(len(routes), 24)
        documented = set()
        for path, item in self.doc["paths"].items():
            pattern = re.sub(r"\{[^}/]+\}", "*", path)
            for method in item:
                documented.add((method.upper(), pattern))
        self.assertEqual(set(routes), documented)

    def test_operations_complete(self):
        ids = set()
        for path, item in self.doc["paths"].items():
            names = re.findall(r"\{([^}/]+)\}", path)
            for method, op in item.items():
                where = "%s %s" % (method, path)
                self.assertNotIn(op["operationId"], ids, where)
                ids.add(op["operationId"])
                self.assertIn("security", op, where)
                self.assertTrue(op["responses"], where)
                self.assertTrue(any(c.startswith("2") for c in op["responses"]), where)
                params = [p for p in op.get("parameters", []) if "$ref" not in p]
                self.assertEqual(sorted(p["name"] for p in params if p["in"] == "path"),
                                 sorted(names), where)
                if op["security"]:  # a keyed route documents its errors
                    self.assertIn("401", op["responses"], where)
                if method in ("post", "put", "patch") and not path.endswith("/rotate"):
                    self.assertIn("requestBody", op, where)

    def test_refs_resolve(self):
        def walk(x):
            if isinstance(x, dict):
                for k, v in x.items():
                    if k == "$ref":
                        yield v
                    else:
                        yield from walk(v)
            elif isinstance(x, list):
                for v in x:
                    yield from walk(v)
        refs = list(walk(self.doc))
        self.assertTrue(refs)
        for ref in refs:
            self.assertTrue(ref.startswith("#/"), ref)
            node = self.doc
            for part in ref[2:].split("/"):
                self.assertIn(part, node, ref)
                node = node[part]

    def bounded_query_parameters(self):
        """(path, name, schema) of every GET route's query parameter whose
        document states a range or a set of values; routes with a path
        parameter are left out (they need an object to exist first)."""
        for path, item in self.doc["paths"].items():
            op = item.get("get")
            if not op or "{" in path:
                continue
            for p in op.get("parameters", []):
                if "$ref" in p:
                    ref, p = p["$ref"], self.doc
                    for part in ref[2:].split("/"):
                        p = p[part]
                s = p.get("schema", {})
                if p.get("in") == "query" and ("minimum" in s or "maximum" in s or "enum" in s):
                    yield path, p["name"], s

    def required_query(self, path):
        """The route's required query parameters at their documented
        examples ("currency=USDC&"), so that a call reaches the one tried."""
        out = ""
        for p in self.doc["paths"][path]["get"].get("parameters", []):
            if p.get("in") == "query" and p.get("required"):
                out += "%s=%s&" % (p["name"], p["schema"]["examples"][0])
        return out

    def test_query_bounds_are_the_gateways(self):
        """The document's ranges and values are the ones the gateway's
        option tables hold: one step outside is refused as a bad
        parameter; inside, on the routes that only read rows (the insights
        compute a model per value, so there only the refusals are
        checked), each bound and each value is taken."""
        seen = 0
        for path, name, s in self.bounded_query_parameters():
            outside = [str(s["minimum"] - 1)] if "minimum" in s else []
            outside += [str(s["maximum"] + 1)] if "maximum" in s else []
            if "enum" in s:
                outside.append("2" if s.get("type") == "integer" else "no-such-value")
            inside = [str(s[k]) for k in ("minimum", "maximum") if k in s] + [str(v) for v in s.get("enum", [])]
            for v in outside:
                r, doc = call("GET", "%s?%s%s=%s" % (path, self.required_query(path), name, v), G["demo"])
                self.assertEqual(r.status, 400, "%s %s=%s: %s" % (path, name, v, doc))
                self.assertIn(name, doc["error"]["message"], doc)
            if path.startswith("/v1/insights/"):
                continue
            for v in inside:
                r, doc = call("GET", "%s?%s%s=%s" % (path, self.required_query(path), name, v), G["demo"],
                              timeout=600)
                self.assertNotEqual(r.status, 400, "%s %s=%s: %s" % (path, name, v, doc))
            seen += 1
        self.assertGreaterEqual(seen, 5)  # projection, usage, models, alerts, performance, track

    def test_query_defaults_are_the_gateways(self):
        """A documented default is what the gateway takes when the parameter
        is absent: the same status and the same answer."""
        seen = 0
        for path, item in self.doc["paths"].items():
            op = item.get("get")
            if not op or "{" in path:
                continue
            for p in op.get("parameters", []):
                default = p.get("schema", {}).get("default")
                if p.get("in") != "query" or default is None:
                    continue
                base = path + "?" + self.required_query(path)
                r1, doc1 = call("GET", base, G["demo"], timeout=600)
                r2, doc2 = call("GET", "%s%s=%s" % (base, p["name"], default), G["demo"], timeout=600)
                where = "%s %s=%s" % (path, p["name"], default)
                self.assertEqual(r1.status, r2.status, where)
                # The track's list grows with each projection recorded, which
                # may land between two calls: its status is compared only.
                if path != "/v1/treasury/track":
                    self.assertEqual(doc1, doc2, where)
                seen += 1
        self.assertGreaterEqual(seen, 4)

    def test_documented_error_shape_is_served(self):
        r, doc = call("GET", "/v1/admin/tiers")
        self.assertEqual(r.status, 401)
        shape = self.doc["components"]["schemas"]["Error"]["properties"]["error"]
        for k in shape["required"]:
            self.assertIn(k, doc["error"])
        self.assertLessEqual(set(doc["error"]), set(shape["properties"]))


class ZShutdown(unittest.TestCase):
    """Last (unittest sorts classes by name): SIGTERM, exit 0, and no
    sanitizer report from anything the tests above exercised."""
    def test_zz_clean_exit(self):
        self.assertEqual(tm.stop(G["proc"]), 0)
        with open(G["db"] + ".stderr", errors="replace") as f:
            err = f.read()
        self.assertNotIn("Sanitizer", err)
        self.assertNotIn("runtime error", err)


if __name__ == "__main__":
    tm.main()
