/* pg_lease.c: leases as session advisory locks (lease.h). The lock's
 * connection stays out of the pool until the lease is released, so the
 * lock lives exactly as long as the holder's session. */
#include "pg_internal.h"

int gw_pg_lease_try(gw_pg *pg, const char *name, void **conn, int *got, fc_err *err) {
  PGconn *c;
  int fresh;
  *got = 0;
  *conn = NULL;
  int rc = pg_acquire(pg, &c, &fresh, err);
  if (rc != FC_OK) return rc;
  pg_args a = {0};
  pg_arg_text(&a, name);
  PGresult *r = pg_exec(c, "SELECT pg_try_advisory_lock(hashtext('floatcast/' || $1))", &a, "lease", err);
  if (!r && !fresh && PQstatus(c) != CONNECTION_OK) { /* a stale pooled session: once more */
    pg_release(pg, c);
    return gw_pg_lease_try(pg, name, conn, got, err);
  }
  if (r) *got = pg_text(r, 0, 0)[0] == 't';
  PQclear(r);
  if (*got) *conn = c;
  else pg_release(pg, c);
  return r ? FC_OK : pg_failed(err);
}

void gw_pg_lease_release(gw_pg *pg, void *conn) {
  PGconn *c = conn;
  /* Unlocking all this session's advisory locks: it holds only this one. */
  PGresult *r = PQexec(c, "SELECT pg_advisory_unlock_all()");
  int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
  PQclear(r);
  if (ok) pg_release(pg, c);
  else PQfinish(c); /* the lock goes with the session */
}
