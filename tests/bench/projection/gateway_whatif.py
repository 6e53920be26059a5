#!/usr/bin/python3
"""gateway_whatif.py GATEWAY [GATEWAY...]: end-to-end time of POST /v1/what-if
with method=ml (96 h, every currency, the demo tenant at its default now).

Each gateway starts on its own seeded SQLite file; after one warm-up call
(the flow model), the gateways answer 30 what-ifs each, interleaved (A B A
B ...), cycling through eight scenarios (a paused stream, a cancelled
transfer). Prints p50/p95/min per gateway: compare builds side by side."""
import http.client, json, os, select, subprocess, sys, tempfile, time
def spawn(gw, db):
    p = subprocess.Popen([gw, "--listen", "127.0.0.1:0", "--db", db, "--quiet", "--seed-demo"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline().decode(); key = p.stdout.readline().decode().split()[-1]
    return p, int(line.rsplit(":", 1)[1].strip("/\n")), key
def post(port, key, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    t = time.perf_counter()
    c.request("POST", "/v1/what-if", body=json.dumps(body), headers={"Authorization": "Bearer " + key})
    r = c.getresponse(); d = r.read(); dt = time.perf_counter() - t
    c.close(); assert r.status == 200, d[:300]
    return dt * 1e3
gws = sys.argv[1:]; N = 30
procs = []
for g in gws:
    d = tempfile.mkdtemp(); procs.append(spawn(g, os.path.join(d, "gw.db")))
# the snapshot's first active stream and pending transfer
c = http.client.HTTPConnection("127.0.0.1", procs[0][1]); c.request("GET", "/v1/treasury/snapshot", headers={"Authorization": "Bearer " + procs[0][2]})
snap = json.loads(c.getresponse().read())
st = [s["id"] for s in snap["streams"] if s["status"] == "active"]
pe = [t["id"] for t in snap["transfers"] if t["status"] == "pending"]
bodies = [{"method": "ml", "horizon": 96, "pause_streams": [st[i % len(st)]]} for i in range(4)] + \
         [{"method": "ml", "horizon": 96, "cancel_transfers": [pe[i % len(pe)]]} for i in range(4)]
for p, port, key in procs: post(port, key, bodies[0])  # the model fit (warm)
times = [[] for _ in gws]
for i in range(N):
    for j, (p, port, key) in enumerate(procs):
        times[j].append(post(port, key, bodies[i % len(bodies)]))
for g, t in zip(gws, times):
    t.sort(); print("%-45s what-if ml 96h: p50 %6.1f ms  p95 %6.1f ms  min %6.1f ms  (n=%d)" % (g, t[len(t)//2], t[int(len(t)*0.95)], t[0], len(t)))
for p, _, _ in procs: p.terminate(); p.wait()
