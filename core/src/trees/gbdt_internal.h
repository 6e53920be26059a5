/* gbdt_internal.h: the model layout shared by training (gbdt.c), prediction
 * (gbdt_model.c) and persistence (gbdt_io.c); not installed.
 *
 * The ensemble is flattened: all trees' split nodes live in one array and
 * all leaves in another, tree t owning nodes [node_begin[t], node_begin[t+1])
 * and leaves [leaf_begin[t], leaf_begin[t+1]). Child references are local to
 * the tree: c >= 0 is a node, c < 0 is leaf ~c. A child node always has a
 * larger index than its parent (nodes are numbered in split order), which
 * the loader checks so a crafted file cannot make prediction loop. A tree
 * with no split has zero nodes and one leaf.
 */
#ifndef FC_GBDT_INTERNAL_H
#define FC_GBDT_INTERNAL_H

#include "fc/gbdt.h"

#include <stdint.h>

#define FC__NODE_DEFAULT_LEFT 1u /* NaN goes left (numeric splits) */
#define FC__NODE_CAT          2u /* categorical split: meta >> 2 is the bitset */

/* One split node; 24 bytes, read by the prediction loop. Numeric: x <= thr
 * goes left, NaN follows FC__NODE_DEFAULT_LEFT. Categorical: x goes left iff
 * it is an integer category whose bit is set in cat_bits[meta >> 2]. */
typedef struct fc__gbdt_node {
  double thr;
  int32_t feat;
  int32_t left, right;
  uint32_t meta;
} fc__gbdt_node;

#define FC__CAT_WORDS      4  /* 256 bits per categorical split */
#define FC__FULL_MAX_DEPTH 10 /* deeper trees take the pointer walk */

struct fc_gbdt {
  size_t nfeat;
  fc_gbdt_objective objective;
  double alpha, huber_delta, tweedie_power;
  double base_score;    /* raw score every prediction starts from */
  double learning_rate; /* informational; already folded into the leaves */
  uint8_t *is_cat;      /* nfeat */
  char **names;         /* nfeat NUL-terminated names */

  size_t ntrees, cap_trees;
  uint32_t *node_begin, *leaf_begin; /* ntrees + 1 each */

  fc__gbdt_node *nodes; /* node_begin[ntrees] of them */
  double *node_gain;    /* loss reduction of each split */
  double *node_count;   /* training rows reaching each node */
  size_t cap_nodes;

  double *leaf_value; /* learning rate already applied */
  double *leaf_count;
  size_t cap_leaves;

  uint64_t *cat_bits; /* ncat sets of FC__CAT_WORDS words */
  size_t ncat, cap_cat;

  /* Set by fc__gbdt_finalize for the prediction loop. */
  uint32_t *depth; /* ntrees: levels of splits on the longest path */
  /* Tree t as nodes followed by its leaves as absorbing nodes (both
   * children point at themselves), from walk[node_begin[t] + leaf_begin[t]]:
   * the prediction walk then needs no test for "already at a leaf". */
  fc__gbdt_node *walk;
  int has_cat; /* some node splits a categorical feature */
  /* Tree t with depth[t] <= FC__FULL_MAX_DEPTH = D also as a complete tree:
   * split i (from full_begin[t]) has children 2i+1 and 2i+2, 2^D - 1 splits
   * then 2^D leaf values (from full_leaf_begin[t]); a leaf above depth D
   * heads a subtree of pass-through splits whose leaves all hold its value.
   * full_feat holds the feature, with bit 31 set when NaN goes left. */
  uint32_t *full_begin, *full_leaf_begin; /* ntrees + 1 each */
  double *full_thr, *full_leaf;
  uint32_t *full_feat;
};

/* Allocates an empty model for nfeat features (names "f0".. unless given). */
int fc__gbdt_model_new(fc_gbdt **out, size_t nfeat, fc_err *err);
/* Makes room for one more tree of up to nodes nodes / leaves leaves / cats
 * categorical sets; FC_ENOMEM on failure. */
int fc__gbdt_reserve(fc_gbdt *m, size_t nodes, size_t leaves, size_t cats);
/* Computes depth[] and has_cat once the trees are final (after training or
 * loading); FC_ENOMEM on failure. */
int fc__gbdt_finalize(fc_gbdt *m);
/* Sets feature i's name (copied). */
int fc__gbdt_set_name(fc_gbdt *m, size_t i, const char *name);
/* Raw score (before the link) of one row for trees [0, ntrees). */
double fc__gbdt_raw_row(const fc_gbdt *m, size_t ntrees, const double *x);
/* Leaf value of tree t for row x. */
double fc__gbdt_tree_value(const fc_gbdt *m, size_t t, const double *x);
/* Applies the objective's inverse link to a raw score. */
double fc__gbdt_link(const fc_gbdt *m, double raw);

#endif /* FC_GBDT_INTERNAL_H */
