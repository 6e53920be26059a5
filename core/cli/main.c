/* main.c: the floatcast command's entry point and subcommand table. */
#include "cli.h"

#include <string.h>

static const struct {
  const char *name;
  cli_cmd_fn fn;
  const char *summary;
} commands[] = {
    {"project", cmd_project, "treasury float projection per currency (JSON or a table)"},
    {"cashflow", cmd_cashflow, "predicted outflows/inflows p10/p50/p90 per step (gradient-boosted trees)"},
    {"features", cmd_features, "treasury features: flows, velocity, recurring payments, stream runway"},
    {"segment", cmd_segment, "customer segments of partner transactions (k-means or DBSCAN)"},
    {"trends", cmd_trends, "revenue trend, changepoints, weekday/month seasonality, anomalies"},
    {"demo", cmd_demo, "write the demo tenant's CSV files (fixed seed)"},
    {"forecast", cmd_forecast, "forecast time series (ensemble, ETS, Theta, MSTL, baselines)"},
    {"decompose", cmd_decompose, "trend, seasonal components, changepoints and anomalies of a history"},
    {"backtest", cmd_backtest, "rolling-origin accuracy and interval coverage of a model"},
    {"gbdt", cmd_gbdt, "gradient-boosted trees: train, predict, importance, dump"},
    {"usage", cmd_usage, "export the gateway's metered usage for billing (usage export --db ...)"},
    {"version", cmd_version, "print the version"},
};

static void usage(FILE *f) {
  fprintf(f, "usage: floatcast <command> [options]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\nRun 'floatcast <command> --help' for a command's options.\n");
}

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "floatcast: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
