/* runner.h: a tiny test runner in the manner of libuv's.
 *
 * A test file defines tests with TEST(name) { ... } and ends with
 *
 *   TEST_LIST(T(name_a), T(name_b))
 *
 * which makes main(): with no argument it runs every test in order and
 * prints "N passed, N failed"; with a name it runs that test alone.
 * ASSERT* macros print both sides and fail the current test (not the run).
 */
#ifndef FC_TEST_RUNNER_H
#define FC_TEST_RUNNER_H

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name;
  void (*fn)(int *failed);
} fc_test;

#define TEST(name) static void test_##name(int *fc__failed)
#define T(name) \
  { #name, test_##name }

#define FC__FAIL(...)                                 \
  do {                                                \
    fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__);                     \
    fputc('\n', stderr);                              \
    *fc__failed = 1;                                  \
    return;                                           \
  } while (0)

#define ASSERT(cond)                                      \
  do {                                                    \
    if (!(cond)) FC__FAIL("assertion failed: %s", #cond); \
  } while (0)

#define ASSERT_INT_EQ(a, b)                                                       \
  do {                                                                            \
    long long fc__a = (long long)(a), fc__b = (long long)(b);                     \
    if (fc__a != fc__b) FC__FAIL("%s == %s: %lld != %lld", #a, #b, fc__a, fc__b); \
  } while (0)

#define ASSERT_OK(expr)                                                   \
  do {                                                                    \
    long long fc__r = (long long)(expr);                                  \
    if (fc__r != 0) FC__FAIL("%s returned %lld, wanted 0", #expr, fc__r); \
  } while (0)

#define ASSERT_STR_EQ(a, b)                                                                               \
  do {                                                                                                    \
    const char *fc__a = (a), *fc__b = (b);                                                                \
    if (fc__a == NULL || fc__b == NULL || strcmp(fc__a, fc__b) != 0)                                      \
      FC__FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, fc__a ? fc__a : "(null)", fc__b ? fc__b : "(null)"); \
  } while (0)

#define ASSERT_CONTAINS(hay, needle)                                                                   \
  do {                                                                                                 \
    const char *fc__h = (hay), *fc__n = (needle);                                                      \
    if (fc__h == NULL || strstr(fc__h, fc__n) == NULL)                                                 \
      FC__FAIL("%s contains %s: \"%s\" lacks \"%s\"", #hay, #needle, fc__h ? fc__h : "(null)", fc__n); \
  } while (0)

#define ASSERT_NEAR(a, b, tol)                                                            \
  do {                                                                                    \
    double fc__a = (double)(a), fc__b = (double)(b);                                      \
    if (!(fabs(fc__a - fc__b) <= (tol)))                                                  \
      FC__FAIL("%s ~= %s: %.17g vs %.17g (tol %g)", #a, #b, fc__a, fc__b, (double)(tol)); \
  } while (0)

static inline int fc__run_tests(const fc_test *tests, size_t n, int argc, char **argv) {
  int passed = 0, failed = 0, found = 0;
  for (size_t i = 0; i < n; i++) {
    int f = 0;
    if (argc > 1 && strcmp(argv[1], tests[i].name) != 0) continue;
    found = 1;
    tests[i].fn(&f);
    if (f) {
      failed++;
      fprintf(stderr, "not ok - %s\n", tests[i].name);
    } else {
      passed++;
      printf("ok - %s\n", tests[i].name);
    }
  }
  if (argc > 1 && !found) {
    fprintf(stderr, "no test named %s\n", argv[1]);
    return 2;
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

#define TEST_LIST(...)                                                                   \
  static const fc_test fc__tests[] = {__VA_ARGS__};                                      \
  int main(int argc, char **argv) {                                                      \
    return fc__run_tests(fc__tests, sizeof fc__tests / sizeof fc__tests[0], argc, argv); \
  }

#endif /* FC_TEST_RUNNER_H */
