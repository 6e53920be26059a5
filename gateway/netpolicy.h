/* netpolicy.h: which addresses a webhook may be delivered to (SSRF
 * defence). Pure: no I/O; the caller resolves names and asks about every
 * address it would connect to.
 *
 * Refused unless an allow rule covers them: IPv4 0/8 ("this network"),
 * 10/8, 172.16/12, 192.168/16 (private), 100.64/10 (shared address
 * space), 127/8 (loopback), 169.254/16 (link-local), 224/4 (multicast),
 * 240/4 and 255.255.255.255 (reserved, broadcast); IPv6 :: and ::1,
 * fe80::/10 (link-local), fc00::/7 (unique local), ff00::/8 (multicast),
 * and the forms that carry an IPv4 address (mapped ::ffff:0:0/96,
 * compatible ::/96, NAT64 64:ff9b::/96) judged by that address. Everything else (public unicast) is allowed.
 * `--webhook-allow CIDR,...` adds exceptions (tests: 127.0.0.1/32).
 */
#ifndef GW_NETPOLICY_H
#define GW_NETPOLICY_H

#include <stddef.h>

#include "fc/status.h"

struct sockaddr;

#define GW_NETPOLICY_MAX 32

typedef struct gw_cidr {
  int v6; /* 0: IPv4 (addr[0..4)), 1: IPv6 */
  unsigned char addr[16];
  int bits;
} gw_cidr;

typedef struct gw_netpolicy {
  gw_cidr allow[GW_NETPOLICY_MAX];
  size_t n;
} gw_netpolicy;

/* Parses "CIDR,CIDR,..." (a bare address means /32 or /128) into p's
 * allow rules: FC_OK, or FC_EINVAL with the reason in err for a bad entry
 * or too many. */
int gw_netpolicy_parse(const char *list, gw_netpolicy *p, fc_err *err);
/* NULL when the address may be used; else why not ("loopback",
 * "private", "link-local", "multicast", "reserved", "unspecified",
 * "unsupported address family"). p may be NULL (no exceptions). */
const char *gw_netpolicy_refuses(const gw_netpolicy *p, const struct sockaddr *sa);

#endif /* GW_NETPOLICY_H */
