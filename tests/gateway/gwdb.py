"""gwdb.py: which storage engine the gateway suites run against.

FC_TEST_DB=postgresql (ctest's *_pg tests set it) runs the same suites on
PostgreSQL: a throw-away cluster (initdb in a temp dir, loopback port,
trust auth) started on first use and stopped at exit, and one database per
SQLite path a test names, so tests keep passing paths around and
`arg(path)` turns each into its libpq URI. Unset (the default), `arg` is
the path itself.

PostgreSQL refuses to run as root, and CI runs as root: the cluster then
belongs to the `postgres` user (Debian's package creates it) and runs
through runuser. Tests that read the SQLite file directly skip under
PostgreSQL with `sqlite_only`; `sql()` runs a statement in a test's
database whichever engine it is.
"""
import atexit
import glob
import os
import pwd
import shutil
import signal
import socket
import sqlite3
import subprocess
import struct
import tempfile
import unittest

ENGINE = os.environ.get("FC_TEST_DB", "sqlite")
PG_USER = "fc"  # the gateway's role: owns its databases, not a superuser


def is_pg():
    return ENGINE == "postgresql"


def sqlite_only(reason="reads the SQLite file directly"):
    return unittest.skipIf(is_pg(), "SQLite engine only: " + reason)


def pg_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """An initdb cluster on 127.0.0.1:port, owned by an unprivileged user."""

    def __init__(self, prefix="fc-pg-"):
        self.bin = pg_bin()
        if not self.bin:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.data = os.path.join(self.tmp, "data")
        self.port = free_port()
        self.as_user = []
        os.makedirs(self.data)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chmod(self.tmp, 0o755)  # postgres must reach its data dir
            os.chown(self.data, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.run(["initdb", "-D", self.data, "--auth=trust", "-E", "UTF8", "--locale=C",
                  "-U", "postgres"])
        self.start()
        self.psql("postgres", "CREATE ROLE %s LOGIN" % PG_USER)
        self.n_db = 0
        self.dbs = {}

    def run(self, argv, check=True):
        argv = self.as_user + [os.path.join(self.bin, argv[0])] + argv[1:]
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if check and out.returncode != 0:
            raise RuntimeError("%s failed:\n%s" % (argv, out.stdout.decode(errors="replace")))
        return out

    def start(self):
        # -w waits until the server accepts connections; fsync off: a test
        # cluster trades durability across power loss (not tested) for speed.
        opts = "-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off -c max_connections=200" % (
            self.port, self.data)
        self.run(["pg_ctl", "-D", self.data, "-o", opts, "-l",
                  os.path.join(self.data, "server.log"), "-w", "-t", "120", "start"])

    def stop(self, mode="fast"):
        if self.run(["pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"], check=False).returncode:
            self.run(["pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"], check=False)

    def psql(self, db, sql, user="postgres"):
        out = subprocess.run(
            ["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
             "-p", str(self.port), "-U", user, "-d", db, "-c", sql],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if out.returncode != 0:
            raise RuntimeError(out.stderr.decode(errors="replace").strip())
        return out.stdout.decode()

    def new_db(self):
        self.n_db += 1
        name = "fc%d" % self.n_db
        self.psql("postgres", "CREATE DATABASE %s OWNER %s" % (name, PG_USER))
        return name

    def uri(self, name):
        return "postgresql://%s@127.0.0.1:%d/%s" % (PG_USER, self.port, name)

    def destroy(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


_CLUSTER = []


def cluster():
    if not _CLUSTER:
        _CLUSTER.append(Cluster())
        atexit.register(_CLUSTER[0].destroy)
        # ctest's timeout sends SIGTERM: stop the cluster then too.
        signal.signal(signal.SIGTERM, lambda *a: (_CLUSTER[0].destroy(), os._exit(143)))
    return _CLUSTER[0]


def arg(path):
    """What to pass as --db for the database a test calls `path`."""
    if not is_pg():
        return path
    c = cluster()
    if path not in c.dbs:
        c.dbs[path] = c.new_db()
    return c.uri(c.dbs[path])


def _literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def _value(text):
    if text == "":
        return None  # psql -A prints NULL as nothing
    try:
        return int(text)
    except ValueError:
        return text


def sql(path, query, args=()):
    """Rows of query ('?' placeholders bound to args) as a list of tuples
    in the database a test calls `path`, whichever the engine. Under
    PostgreSQL integers come back as ints, NULL (and '') as None."""
    if not is_pg():
        con = sqlite3.connect(path, timeout=30)
        try:
            rows = con.execute(query, args).fetchall()
            con.commit()
            return rows
        finally:
            con.close()
    parts = query.split("?")
    assert len(parts) == len(args) + 1, "one argument per '?'"
    text = parts[0] + "".join(_literal(a) + p for a, p in zip(args, parts[1:]))
    c = cluster()
    arg(path)
    out = c.psql(c.dbs[path], text, user=PG_USER)
    return [tuple(_value(v) for v in line.split("|")) for line in out.splitlines() if line]


def user_packs(path, tenant, local):
    """The customer days of txn_user_packs (SQLite: gateway/db_user_packs.c)
    decoded: (currency, day, partner, user, type, category, n, purchases,
    spend, refund) per record, sorted, the strings from txn_user_names; a
    malformed pack or an unknown id fails."""
    con = sqlite3.connect(path, timeout=30)
    try:
        names = dict(con.execute("SELECT id, text FROM txn_user_names WHERE tenant_id = ?", (tenant,)))
        packs = con.execute("SELECT currency, day, rows FROM txn_user_packs WHERE tenant_id = ? AND local = ?",
                            (tenant, local)).fetchall()
    finally:
        con.close()
    out = []
    for ccy, day, blob in packs:
        assert len(blob) % 52 == 0 and blob, (ccy, day, len(blob))
        for at in range(0, len(blob), 52):
            ids = struct.unpack_from("<4I", blob, at)
            _scale, n, purchases, spend, refund = struct.unpack_from("<I4q", blob, at + 16)
            out.append((ccy, day) + tuple(names[i] for i in ids) + (n, purchases, spend, refund))
    return sorted(out)


def dump(path):
    """Every byte the database holds, as far as a reader can see: the
    SQLite file, or pg_dump's text of the PostgreSQL database."""
    if not is_pg():
        with open(path, "rb") as f:
            return f.read()
    c = cluster()
    arg(path)
    return subprocess.run([os.path.join(c.bin, "pg_dump"), "-h", "127.0.0.1", "-p", str(c.port),
                           "-U", PG_USER, c.dbs[path]], check=True,
                          stdout=subprocess.PIPE).stdout


def sql_fails(path, query, args=()):
    """The error message of query, which must fail (None when it did not)."""
    try:
        sql(path, query, args)
    except (sqlite3.DatabaseError, RuntimeError) as e:
        return str(e)
    return None
