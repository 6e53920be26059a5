/* lease.c: cluster-wide leases (lease.h). */
#include "lease.h"

#include <stdlib.h>

#include "db_internal.h"

struct gw_lease {
  gw_db *db;
  void *conn; /* PostgreSQL: the session holding the advisory lock */
};

int gw_lease_try(gw_db *db, const char *name, gw_lease **out, fc_err *err) {
  gw_lease *l = calloc(1, sizeof *l);
  *out = NULL;
  if (!l) return fc_err_set(err, FC_ENOMEM, "out of memory");
  l->db = db;
#ifdef FC_WITH_PG
  if (gw__pg(db)) {
    int got = 0;
    int rc = gw_pg_lease_try(gw__pg(db), name, &l->conn, &got, err);
    if (rc != FC_OK || !got) {
      free(l);
      return rc;
    }
  }
#else
  (void)name;
  (void)err;
#endif
  *out = l;
  return FC_OK;
}

void gw_lease_release(gw_lease *l) {
  if (!l) return;
#ifdef FC_WITH_PG
  if (l->conn) gw_pg_lease_release(gw__pg(l->db), l->conn);
#endif
  free(l);
}
