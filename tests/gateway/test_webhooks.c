/* test_webhooks.c: HMAC-SHA256 against RFC 4231, the webhook signature
 * header, the SSRF address policy and webhook URL parsing (pure parts of
 * hmac.c, netpolicy.c and webhooks.c; delivery itself is in
 * test_alerts.py). */
#include "runner.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "hmac.h"
#include "netpolicy.h"
#include "webhooks.h"

static void mac_hex(const void *key, size_t kn, const void *msg, size_t n, char out[65]) {
  unsigned char d[GW_SHA256_LEN];
  gw_hmac_sha256(key, kn, msg, n, d);
  gw_hex(d, sizeof d, out);
}

TEST(hmac_rfc4231) {
  char h[65];
  unsigned char k20[20], k131[131], d50[50];
  memset(k20, 0x0b, sizeof k20);
  mac_hex(k20, sizeof k20, "Hi There", 8, h); /* case 1 */
  ASSERT_STR_EQ(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  mac_hex("Jefe", 4, "what do ya want for nothing?", 28, h); /* case 2 */
  ASSERT_STR_EQ(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  memset(k20, 0xaa, sizeof k20);
  memset(d50, 0xdd, sizeof d50);
  mac_hex(k20, sizeof k20, d50, sizeof d50, h); /* case 3 */
  ASSERT_STR_EQ(h, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  memset(k131, 0xaa, sizeof k131); /* case 6: a key longer than the block is hashed */
  const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
  mac_hex(k131, sizeof k131, m6, strlen(m6), h);
  ASSERT_STR_EQ(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(signature_header) {
  char sig[GW_SIGNATURE_MAX];
  const char *body = "{\"a\":1}";
  /* Python: hmac.new(b"whsec_test", b'1700000000.{"a":1}', sha256). */
  gw_webhook_signature("whsec_test", 1700000000LL, body, strlen(body), sig, sizeof sig);
  ASSERT_STR_EQ(sig, "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
}

static const char *judge(const gw_netpolicy *p, const char *addr) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  if (strchr(addr, ':')) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    if (inet_pton(AF_INET6, addr, &a->sin6_addr) != 1) return "bad test address";
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    if (inet_pton(AF_INET, addr, &a->sin_addr) != 1) return "bad test address";
  }
  const char *why = gw_netpolicy_refuses(p, (const struct sockaddr *)&ss);
  return why ? why : "allowed";
}

TEST(address_policy) {
  gw_netpolicy p;
  fc_err err;
  static const char *const cases[][2] = {{"8.8.8.8", "allowed"},
                                         {"1.1.1.1", "allowed"},
                                         {"127.0.0.1", "loopback"},
                                         {"127.255.0.9", "loopback"},
                                         {"10.1.2.3", "private"},
                                         {"172.16.0.1", "private"},
                                         {"172.31.255.255", "private"},
                                         {"172.32.0.1", "allowed"},
                                         {"192.168.0.1", "private"},
                                         {"100.64.0.1", "private"},
                                         {"100.128.0.1", "allowed"},
                                         {"169.254.169.254", "link-local"},
                                         {"224.0.0.251", "multicast"},
                                         {"240.0.0.1", "reserved"},
                                         {"255.255.255.255", "reserved"},
                                         {"0.0.0.0", "unspecified"},
                                         {"::1", "loopback"},
                                         {"::", "unspecified"},
                                         {"fe80::1", "link-local"},
                                         {"fd12::1", "private"},
                                         {"ff02::1", "multicast"},
                                         {"::ffff:127.0.0.1", "loopback"},
                                         {"::ffff:10.0.0.1", "private"},
                                         {"64:ff9b::a00:1", "private"},
                                         {"2001:4860:4860::8888", "allowed"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) ASSERT_STR_EQ(judge(NULL, cases[i][0]), cases[i][1]);
  ASSERT_INT_EQ(gw_netpolicy_parse("127.0.0.1/32,10.0.0.0/8,fd00::/16,::1", &p, &err), FC_OK);
  ASSERT_STR_EQ(judge(&p, "127.0.0.1"), "allowed");
  ASSERT_STR_EQ(judge(&p, "127.0.0.2"), "loopback"); /* /32: that one address only */
  ASSERT_STR_EQ(judge(&p, "10.200.1.1"), "allowed");
  ASSERT_STR_EQ(judge(&p, "fd00::5"), "allowed");
  ASSERT_STR_EQ(judge(&p, "fd12::1"), "private");
  ASSERT_STR_EQ(judge(&p, "::1"), "allowed");
  ASSERT_STR_EQ(judge(&p, "192.168.0.1"), "private");
  ASSERT_INT_EQ(gw_netpolicy_parse("172.16.0.0/12", &p, &err), FC_OK);
  ASSERT_STR_EQ(judge(&p, "172.20.1.1"), "allowed"); /* a prefix not on a byte boundary */
  ASSERT_STR_EQ(judge(&p, "172.32.0.1"), "allowed");
  ASSERT_STR_EQ(judge(&p, "172.15.0.1"), "allowed"); /* public anyway */
  ASSERT_INT_EQ(gw_netpolicy_parse("10.0.0.0/33", &p, &err), FC_EINVAL);
  ASSERT_INT_EQ(gw_netpolicy_parse("10.0.0.0/", &p, &err), FC_EINVAL);
  ASSERT_INT_EQ(gw_netpolicy_parse("host.example", &p, &err), FC_EINVAL);
  ASSERT_INT_EQ(gw_netpolicy_parse("10.0.0.1,,", &p, &err), FC_EINVAL);
  ASSERT_STR_EQ(err.msg, "'' is not an address or CIDR network"); /* the empty entry */
}

TEST(url_parse) {
  char host[256], port[8], path[2100];
  fc_err err;
  ASSERT_INT_EQ(gw_webhook_url_parse("http://example.com/hooks?a=1", host, sizeof host, port, sizeof port, path,
                                     sizeof path, &err),
                FC_OK);
  ASSERT_STR_EQ(host, "example.com");
  ASSERT_STR_EQ(port, "80");
  ASSERT_STR_EQ(path, "/hooks?a=1");
  ASSERT_INT_EQ(
      gw_webhook_url_parse("HTTP://[::1]:8443", host, sizeof host, port, sizeof port, path, sizeof path, &err), FC_OK);
  ASSERT_STR_EQ(host, "::1");
  ASSERT_STR_EQ(port, "8443");
  ASSERT_STR_EQ(path, "/");
  ASSERT_INT_EQ(gw_webhook_url_parse("http://h?q", host, sizeof host, port, sizeof port, path, sizeof path, &err),
                FC_OK);
  ASSERT_STR_EQ(path, "/?q");
  ASSERT_INT_EQ(
      gw_webhook_url_parse("HTTPS://hooks.example/in", host, sizeof host, port, sizeof port, path, sizeof path, &err),
      FC_OK);
  ASSERT_STR_EQ(host, "hooks.example");
  ASSERT_STR_EQ(port, "443");
  ASSERT_STR_EQ(path, "/in");
  static const char *const bad[] = {"https://",   "https://u@h/", "https:///x",   "ftp://h/",        "h/x",
                                    "http://",    "http://u@h/",  "http://h:0/",  "http://h:65536/", "http://h:x/",
                                    "http://h:/", "http://[::1/", "http://h/a b", "http://h/\x7f",   "http://h/#f"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ASSERT_INT_EQ(gw_webhook_url_parse(bad[i], host, sizeof host, port, sizeof port, path, sizeof path, &err),
                  FC_EINVAL);
  ASSERT_STR_EQ(err.msg, "url: no fragment allowed"); /* the last one's reason */
}

TEST(random_tokens) {
  char a[64], b[64];
  ASSERT_INT_EQ(gw_random_token("wh_", 12, a, sizeof a), 0);
  ASSERT_INT_EQ(gw_random_token("wh_", 12, b, sizeof b), 0);
  ASSERT_INT_EQ((long)strlen(a), 27);
  ASSERT(strncmp(a, "wh_", 3) == 0);
  ASSERT(strcmp(a, b) != 0);
  ASSERT_INT_EQ(gw_random_token("x", 32, a, 10), FC_ERANGE); /* no room */
}

TEST_LIST(T(hmac_rfc4231), T(signature_header), T(address_policy), T(url_parse), T(random_tokens))
