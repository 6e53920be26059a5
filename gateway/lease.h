/* lease.h: cluster-wide leases, so work that must run once across all
 * gateway nodes (a tenant's retraining job) runs on one node at a time.
 *
 * On PostgreSQL a lease is a session advisory lock (pg_try_advisory_lock)
 * held on a connection set aside for it: a node that dies loses its
 * session, so its lease ends with it and another node takes the work, with
 * no expiry to tune. On SQLite there is one node: a lease is always
 * granted.
 */
#ifndef GW_LEASE_H
#define GW_LEASE_H

#include "db.h"

typedef struct gw_lease gw_lease;

/* Takes lease `name` if no node holds it: *out is the lease, or NULL when
 * another node (or another job of this node) holds it. Any thread. */
int gw_lease_try(gw_db *db, const char *name, gw_lease **out, fc_err *err);
/* Gives the lease back; NULL is accepted. */
void gw_lease_release(gw_lease *l);

#endif /* GW_LEASE_H */
