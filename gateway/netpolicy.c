/* netpolicy.c: the address classes webhooks may not reach, and the
 * operator's exceptions. */
#include "netpolicy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* 1 when the first `bits` bits of a and b agree. */
static int prefix_eq(const unsigned char *a, const unsigned char *b, int bits) {
  int whole = bits / 8, rest = bits % 8;
  if (memcmp(a, b, (size_t)whole) != 0) return 0;
  if (rest == 0) return 1;
  unsigned char mask = (unsigned char)(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

/* 1 when s[0..n) is an address or a CIDR network, read into c. */
static int is_cidr(const char *s, size_t n, gw_cidr *c) {
  char text[64], *slash;
  if (n == 0 || n >= sizeof text) return 0;
  memcpy(text, s, n);
  text[n] = '\0';
  slash = strchr(text, '/');
  if (slash) *slash = '\0';
  memset(c, 0, sizeof *c);
  if (inet_pton(AF_INET, text, c->addr) == 1) c->v6 = 0;
  else if (inet_pton(AF_INET6, text, c->addr) == 1) c->v6 = 1;
  else return 0;
  int max = c->v6 ? 128 : 32;
  c->bits = max;
  if (slash) {
    char *end;
    long b = strtol(slash + 1, &end, 10);
    if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || b < 0 || b > max) return 0;
    c->bits = (int)b;
  }
  return 1;
}

int gw_netpolicy_parse(const char *list, gw_netpolicy *p, fc_err *err) {
  const char *s = list;
  memset(p, 0, sizeof *p);
  while (*s) {
    size_t n = strcspn(s, ",");
    if (p->n == GW_NETPOLICY_MAX) return fc_err_set(err, FC_EINVAL, "more than %d networks", GW_NETPOLICY_MAX);
    if (!is_cidr(s, n, &p->allow[p->n]))
      return fc_err_set(err, FC_EINVAL, "'%.*s' is not an address or CIDR network", (int)(n > 64 ? 64 : n), s);
    p->n++;
    s += n;
    if (*s == ',') s++;
  }
  return FC_OK;
}

static const char *v4_class(const unsigned char *a) {
  if (a[0] == 0) return "unspecified";
  if (a[0] == 127) return "loopback";
  if (a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
      (a[0] == 100 && (a[1] & 0xc0) == 64))
    return "private";
  if (a[0] == 169 && a[1] == 254) return "link-local";
  if ((a[0] & 0xf0) == 224) return "multicast";
  if ((a[0] & 0xf0) == 240) return "reserved"; /* 255.255.255.255 included */
  return NULL;
}

static const char *v6_class(const unsigned char *a) {
  static const unsigned char zero[16], mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff},
                                       nat64[12] = {0, 0x64, 0xff, 0x9b};
  if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1)) return a[15] ? "loopback" : "unspecified";
  if (!memcmp(a, mapped, 12) || !memcmp(a, zero, 12) || !memcmp(a, nat64, 12)) return v4_class(a + 12);
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return "link-local";
  if ((a[0] & 0xfe) == 0xfc) return "private";
  if (a[0] == 0xff) return "multicast";
  return NULL;
}

static int allowed_by(const gw_netpolicy *p, int v6, const unsigned char *a) {
  for (size_t i = 0; p && i < p->n; i++)
    if (p->allow[i].v6 == v6 && prefix_eq(p->allow[i].addr, a, p->allow[i].bits)) return 1;
  return 0;
}

const char *gw_netpolicy_refuses(const gw_netpolicy *p, const struct sockaddr *sa) {
  if (sa->sa_family == AF_INET) {
    const unsigned char *a = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
    return allowed_by(p, 0, a) ? NULL : v4_class(a);
  }
  if (sa->sa_family == AF_INET6) {
    const unsigned char *a = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
    return allowed_by(p, 1, a) ? NULL : v6_class(a);
  }
  return "unsupported address family";
}
