#!/usr/bin/env python3
"""gateway/openapi.json is what the option tables make of it: gw-openapi
--check passes on the committed file, and fails, naming the line, on a copy
whose table-made parts were changed by hand (a range, a parameter the
gateway refuses, a description) or whose hand-written rest is broken.

usage: openapi_tables.py GW_OPENAPI DOC"""
import copy
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from clitest import check, summary  # noqa: E402

GEN, DOC = sys.argv[1], sys.argv[2]
PROJ = "/v1/reports/treasury/projection"


def run(*args):
    p = subprocess.run([GEN, *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stderr


def params(doc, path):
    return doc["paths"][path]["get"]["parameters"]


def named(doc, path, name):
    return next(p for p in params(doc, path) if p.get("name") == name)


with open(DOC) as f:
    text = f.read()
doc = json.loads(text)
rc, err = run("--check", DOC)
check("the committed document is the tables'", rc == 0, err)

horizon = named(doc, PROJ, "horizon")["schema"]
check("the projection's horizon range is the core's", (horizon["minimum"], horizon["maximum"]) == (1, 720), horizon)
methods = named(doc, PROJ, "method")["schema"]
check("the methods and default are the core's", methods["enum"] == ["rule", "ml", "gbdt"]
      and methods["default"] == "rule", methods)
check("a parameter's description is the entry's help",
      named(doc, PROJ, "horizon")["description"].startswith("hours ahead, 1..720 (default 48)"))
names = [p.get("name") for p in params(doc, "/v1/insights/cash-flow") if "$ref" not in p]
check("a route lists the entries it reads, in table order",
      names == ["horizon", "granularity", "history_days", "currency"], names)


def tampered(change):
    d = copy.deepcopy(doc)
    change(d)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(json.dumps(d, indent=1, ensure_ascii=False) + "\n")
    try:
        return run("--check", f.name)
    finally:
        os.unlink(f.name)


def widen(d):
    named(d, PROJ, "horizon")["schema"]["maximum"] = 721


def add_unknown(d):
    params(d, PROJ).append({"name": "paths", "in": "query", "required": False, "schema": {"type": "integer"}})


def reword(d):
    named(d, "/v1/insights/trends", "granularity")["description"] = "day, week or month"


def drop_route(d):
    del d["paths"]["/v1/insights/trends"]


for what, change in (("a widened range", widen), ("a parameter the gateway refuses", add_unknown),
                     ("a reworded description", reword)):
    rc, err = tampered(change)
    check("--check fails on " + what, rc == 1 and "differs from what the option tables make of it" in err, err)
rc, err = tampered(drop_route)
check("--check fails on a missing route, naming it", rc == 1 and "/v1/insights/trends" in err, err)
sys.exit(summary())
