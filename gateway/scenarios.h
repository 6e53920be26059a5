/* scenarios.h: a tenant's saved what-if scenarios, kept by the gateway so
 * the page finds them from any browser.
 *
 * A saved scenario is a name (1..GW_SCENARIO_NAME_MAX characters, unique
 * per tenant, compared exactly after trimming) and a scenario in the
 * canonical what-if format (core/include/fc/whatif.h), stored as its
 * compact JSON text (at most GW_SCENARIO_BYTES_MAX bytes), with its
 * created/updated times. A tenant keeps at most GW_SCENARIOS_MAX of them.
 * The handlers (handlers_scenarios.c) validate a scenario as POST
 * /v1/what-if would, against the tenant's data at the time of saving;
 * the storage (db_scenarios.c, pg_scenarios.c) enforces the per-tenant
 * cap and the unique name inside the writing transaction, so two writers
 * cannot both pass the checks.
 */
#ifndef GW_SCENARIOS_H
#define GW_SCENARIOS_H

#include <stdint.h>

#include "db.h"
#include "fc/buf.h"

#define GW_SCENARIO_NAME_MAX  60    /* characters (Unicode code points) */
#define GW_SCENARIO_BYTES_MAX 16384 /* the scenario's compact JSON */
#define GW_SCENARIOS_MAX      100   /* per tenant */

typedef struct gw_scenario {
  char id[40];
  char tenant[FC_TEXT_MAX + 1];
  char name[4 * GW_SCENARIO_NAME_MAX + 1];  /* UTF-8 */
  char scenario[GW_SCENARIO_BYTES_MAX + 1]; /* compact JSON object */
  int64_t created_at, updated_at;           /* unix seconds */
} gw_scenario;

/* Stores s (id, tenant, name, scenario, times set by the caller).
 * FC_EDUP when the tenant has a scenario of that name; FC_ERANGE when it
 * has GW_SCENARIOS_MAX already. */
int gw_db_scenario_insert(gw_db *db, const gw_scenario *s, fc_err *err);
/* Changes the tenant's scenario id: its name when name is not NULL, its
 * scenario when scenario is not NULL, updated_at to now; the row as it
 * now is into *out. FC_ENOTFOUND when there is no such scenario, FC_EDUP
 * when another of the tenant's scenarios has that name. */
int gw_db_scenario_update(gw_db *db, const char *tenant, const char *id, const char *name, const char *scenario,
                          int64_t now, gw_scenario *out, fc_err *err);
/* The tenant's scenario id into *out; FC_ENOTFOUND when none. */
int gw_db_scenario_get(gw_db *db, const char *tenant, const char *id, gw_scenario *out, fc_err *err);
/* FC_ENOTFOUND when the tenant has no scenario id. */
int gw_db_scenario_delete(gw_db *db, const char *tenant, const char *id, fc_err *err);
/* JSON array of the tenant's scenarios by name (then id), *count of them. */
int gw_db_scenarios_write_json(gw_db *db, const char *tenant, fc_buf *out, size_t *count, fc_err *err);

/* {"id","name","scenario":{...},"created_at","updated_at"}. */
void gw_scenario_json(const gw_scenario *s, fc_buf *out);

#endif /* GW_SCENARIOS_H */
