/* test_table.c: the numeric CSV table reader shared by `floatcast gbdt`
 * and the WASM module (fc/table.h). */
#include "runner.h"

#include <math.h>
#include <stdlib.h>

#include "fc/table.h"

static int read(const char *text, fc_table *t, fc_err *e) { return fc_table_read(text, strlen(text), t, e); }

TEST(table_cells_and_missing) {
  fc_table t;
  fc_err e;
  ASSERT_OK(read("x,\"y z\",w\n1, 2.5 ,NA\n-3e2,,nan\n", &t, &e));
  ASSERT_INT_EQ(t.ncol, 3);
  ASSERT_INT_EQ(t.nrow, 2);
  ASSERT_STR_EQ(t.names[1], "y z");
  ASSERT_NEAR(t.v[1], 2.5, 0);
  ASSERT(isnan(t.v[2]));
  ASSERT_NEAR(t.v[3], -300, 0);
  ASSERT(isnan(t.v[4]) && isnan(t.v[5]));
  ASSERT_INT_EQ(fc_table_column(&t, "w"), 2);
  ASSERT_INT_EQ(fc_table_column(&t, "v"), -1);
  fc_table_free(&t);
  fc_table_free(&t); /* a freed table is zeroed: freeing it again is fine */
}

TEST(table_gather_picks_columns_by_name) {
  fc_table t;
  fc_err e;
  double *x;
  const char *names[] = {"c", "a"}, *bad[] = {"a", "q"};
  ASSERT_OK(read("a,b,c\n1,2,3\n4,5,6\n", &t, &e));
  ASSERT_OK(fc_table_gather(&t, names, 2, &x, &e));
  ASSERT(x[0] == 3 && x[1] == 1 && x[2] == 6 && x[3] == 4);
  free(x);
  ASSERT_INT_EQ(fc_table_gather(&t, bad, 2, &x, &e), FC_EINVAL);
  ASSERT(x == NULL);
  ASSERT_CONTAINS(e.msg, "no column named \"q\"");
  fc_table_free(&t);
}

/* Every kind of bad input: the code and a message naming the place. */
TEST(table_errors_name_line_and_column) {
  fc_table t;
  fc_err e;
  ASSERT_INT_EQ(read("", &t, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "empty table");
  ASSERT_INT_EQ(read("x,y\n", &t, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "no rows");
  ASSERT_INT_EQ(read("x,y\n1,2\n3,oops\n", &t, &e), FC_EPARSE);
  ASSERT_STR_EQ(e.msg, "line 3: column y: \"oops\" is not a number");
  ASSERT_INT_EQ(read("x,y\n1,2\n3\n", &t, &e), FC_EPARSE);
  ASSERT_STR_EQ(e.msg, "line 3: 1 fields, the header has 2");
  ASSERT_INT_EQ(read("x\n1e999\n", &t, &e), FC_EPARSE); /* not finite */
  ASSERT_INT_EQ(read("x\ninf\n", &t, &e), FC_EPARSE);
  ASSERT_INT_EQ(read("x\n\"1\n", &t, &e), FC_EPARSE); /* the CSV reader's error */
  ASSERT(t.names == NULL && t.v == NULL && t.nrow == 0);
}

TEST_LIST(T(table_cells_and_missing), T(table_gather_picks_columns_by_name), T(table_errors_name_line_and_column))
