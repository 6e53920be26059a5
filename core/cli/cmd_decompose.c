/* cmd_decompose.c: floatcast decompose.
 *
 * decompose --input FILE [--format long|m4] [--season 24[,168]]
 *           [--freq hour|day|week|month] [--method mstl|prophet]
 *           [--robust on|off] [--band robust|interval] [--k 3]
 *           [--level 99] [--json] [--output FILE]
 * writes, per history step, the trend, each seasonal component, the
 * remainder, the anomaly band, an anomaly flag and a changepoint flag
 * (CSV, decompose.h), or one JSON object per series in a JSON array with
 * --json. Timestamped input gives Prophet its calendar (automatic daily /
 * weekly / yearly seasons when --season is not given).
 * --freq states the step of ISO-timestamped long input as forecast's does
 * (freq.h: each row on its series' hour, day, week or calendar-month grid,
 * else the run stops naming the line); without --season MSTL then uses the
 * freq's periods (hour 24,168; day 7; week 52; month 12) and Prophet its
 * automatic seasons. --method mstl needs --season or --freq.
 * --season 1 is R's "no season": MSTL then gives trend and remainder only.
 * --robust on (the default) makes MSTL's STL runs robust (R's bisquare
 * reweighting finds the gross outliers, a least-squares refit without them
 * gives the components: mstl.h's FC_STL_ROBUST_REFIT), so an isolated
 * spike is flagged alone rather than with its neighbours in the same
 * phase of nearby cycles; it costs about 15 times plain MSTL. --robust off
 * is plain MSTL, as the mstl forecasting model uses (Prophet ignores it).
 * Interior gaps are filled linearly first (reported on stderr); a series
 * that cannot be decomposed is reported with its id and makes the exit
 * code 1. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "fc/decompose.h"
#include "fc/freq.h"
#include "fc/series.h"
#include "fc/tsread.h"

#include "cli_progress.h"

typedef struct dopts {
  const char *input, *output, *format;
  int json;
  int progress; /* --progress / --quiet (cli_progress.h) */
  fc_decompose_params p;
} dopts;

/* The options that name the CLI's world; the rest come from the core's
 * table (fc_decompose_optable) and follow in --help. */
static const char usage[] =
    "usage: floatcast decompose --input FILE [options]\n"
    "\n"
    "Trend, seasonal components, remainder, anomaly band and flags, changepoint flags of\n"
    "every series of FILE, per history step (CSV, or JSON with --json).\n"
    "\n"
    "  --input FILE          the history (long form: series_id,timestamp,value; or M4 wide form)\n"
    "  --format long|m4      the input's form (long)\n"
    "  --json                one JSON object per series in a JSON array\n"
    "  --output FILE         write there instead of stdout\n" CLI_PROGRESS_USAGE "  --help                this text\n";

static int help(FILE *f) {
  const fc_decompose_params defaults = fc_decompose_defaults();
  return cli_help(f, usage, &fc_decompose_optable, &defaults);
}

/* A usage error: the reason, then the option list, on stderr; exit 2. */
static int usage_error(const char *what) {
  fprintf(stderr, "floatcast decompose: %s\n\n", what);
  return help(stderr);
}

static int parse(int argc, char **argv, dopts *o) {
  int bad = 0, rc;
  memset(o, 0, sizeof *o);
  o->format = "long";
  o->output = "-";
  o->p = fc_decompose_defaults();
  if (argc < 2) return usage_error("--input FILE is required");
  for (int i = 1; i < argc && !bad; i++) {
    const char *v;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return help(stdout) - 1;
    if (cli_progress_flag(argv[i], &o->progress)) continue;
    if ((v = cli_flag(argc, argv, &i, "--input", &bad))) o->input = v;
    else if ((v = cli_flag(argc, argv, &i, "--output", &bad))) o->output = v;
    else if ((v = cli_flag(argc, argv, &i, "--format", &bad))) o->format = v;
    else if (strcmp(argv[i], "--json") == 0) o->json = 1;
    else if (bad) break;
    else if ((rc = cli_opt(argc, argv, &i, "decompose", &fc_decompose_optable, &o->p)) > 0) return 2;
    else if (rc < 0) {
      char what[256];
      snprintf(what, sizeof what, "unknown option '%.200s'", argv[i]);
      return usage_error(what);
    }
  }
  if (bad) return 2;
  if (!o->input) return usage_error("--input FILE is required");
  if (strcmp(o->format, "long") && strcmp(o->format, "m4"))
    return cli_fail("decompose", "--format must be long or m4") + 1;
  if (o->p.freq != FC_FREQ_NONE && strcmp(o->format, "long"))
    return cli_fail("decompose", "--freq needs --format long with ISO 8601 timestamps") + 1;
  if (o->p.method == FC_DECOMPOSE_MSTL && o->p.nperiods == 0 && o->p.freq == FC_FREQ_NONE)
    return cli_fail("decompose", "--method mstl needs --season or --freq") + 1;
  return 0;
}

static int load(const dopts *o, fc_series_set *set) {
  fc_buf b;
  fc_err err;
  int rc;
  memset(set, 0, sizeof *set);
  fc_buf_init(&b);
  if (cli_read_file(o->input, &b)) {
    fc_buf_free(&b);
    return 1;
  }
  rc = strcmp(o->format, "m4") == 0 ? fc_m4_parse(b.data, b.len, set, &err)
                                    : fc_long_parse_freq(b.data, b.len, o->p.freq, set, &err);
  fc_buf_free(&b);
  if (rc) return cli_fail_err("decompose", o->input, rc, &err);
  for (size_t s = 0; s < set->count; s++) {
    size_t filled = 0;
    if (fc_series_fill_gaps(set->values[s], set->lengths[s], &filled, &err) == FC_OK && filled)
      fprintf(stderr, "floatcast decompose: series %s: %zu missing values filled by interpolation\n", set->ids[s],
              filled);
  }
  return 0;
}

/* Decomposes series s (fc_decompose_set_series, shared with the WASM
 * module) and appends it to out; header names the CSV's columns, taken
 * from the first series written. */
static int one(const dopts *o, const fc_series_set *set, size_t s, fc_buf *out, fc_buf *header, size_t *written) {
  fc_decomposition d;
  fc_err err;
  int rc = 0;
  if ((rc = fc_decompose_set_series(set, s, &o->p, &d, &err))) return cli_fail_err("decompose", set->ids[s], rc, &err);
  if (o->json) {
    fc_buf_puts(out, *written ? ",\n" : "[");
    fc_decomposition_write_json(&d, set->ids[s], d.times, out);
  } else {
    fc_buf cols;
    fc_buf_init(&cols);
    for (size_t k = 0; k < d.ncomp; k++) fc_buf_printf(&cols, ",%s", d.names[k]);
    if (*written == 0) fc_buf_puts(header, cols.len ? cols.data : "");
    if (strcmp(header->data ? header->data : "", cols.data ? cols.data : "") != 0) {
      rc = cli_fail("decompose", "%s: components%s differ from the first series' (%s); use --json", set->ids[s],
                    cols.data ? cols.data : "", header->data ? header->data : "");
    } else {
      fc_decomposition_write_csv(&d, set->ids[s], d.times, *written == 0, out);
    }
    fc_buf_free(&cols);
  }
  if (rc == 0) (*written)++;
  fc_decomposition_free(&d);
  return rc;
}

int cmd_decompose(int argc, char **argv) {
  dopts o;
  fc_series_set set;
  fc_buf out, header;
  size_t written = 0;
  int rc, failed = 0;
  cli_progress progress;
  if ((rc = parse(argc, argv, &o))) return rc < 0 ? 0 : rc;
  if ((rc = load(&o, &set))) {
    fc_series_set_free(&set);
    return rc;
  }
  fc_buf_init(&out);
  fc_buf_init(&header);
  cli_progress_start(&progress, "decompose", "series", set.count, o.progress);
  for (size_t s = 0; s < set.count; s++) {
    if (one(&o, &set, s, &out, &header, &written)) failed = 1;
    cli_progress_step(&progress);
  }
  cli_progress_end(&progress);
  if (o.json) fc_buf_puts(&out, written ? "]\n" : "[]\n");
  if (fc_buf_failed(&out)) rc = cli_fail("decompose", "out of memory");
  else rc = cli_write_file(o.output, out.data ? out.data : "", out.len) ? 1 : 0;
  fc_buf_free(&out);
  fc_buf_free(&header);
  fc_series_set_free(&set);
  return rc ? rc : failed;
}
