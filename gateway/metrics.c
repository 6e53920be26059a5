/* metrics.c: counting and the exposition format. */
#include "metrics.h"

#include <stdio.h>

void gw_metrics_observe(gw_metrics *m, size_t route_index, int status, double seconds) {
  size_t r = route_index < GW_METRICS_ROUTES ? route_index : GW_METRICS_ROUTES;
  int cls = status / 100;
  m->requests[r][cls >= 1 && cls <= 5 ? cls : 0]++;
  gw_hist_observe(&m->latency, seconds);
  if (status == 429) m->limited++;
}

void gw_metrics_write(const gw_metrics *m, const char *(*route_name)(size_t i), size_t n_routes,
                      const gw_cache_stats *cache, const gw_gate_stats *gate, const gw_meter_stats *meter,
                      fc_buf *out) {
  fc_buf_puts(out, "# HELP floatcast_requests_total Requests answered, by route and status class.\n"
                   "# TYPE floatcast_requests_total counter\n");
  for (size_t r = 0; r <= GW_METRICS_ROUTES; r++) {
    if (r < GW_METRICS_ROUTES && r >= n_routes) continue;
    const char *name = r == GW_METRICS_ROUTES ? "none" : route_name(r);
    for (int c = 0; c < 6; c++) {
      if (m->requests[r][c] == 0) continue;
      fc_buf_printf(out, "floatcast_requests_total{route=\"%s\",code=\"%s\"} %llu\n", name,
                    c == 0   ? "other"
                    : c == 1 ? "1xx"
                    : c == 2 ? "2xx"
                    : c == 3 ? "3xx"
                    : c == 4 ? "4xx"
                             : "5xx",
                    (unsigned long long)m->requests[r][c]);
    }
  }
  gw_hist_write(&m->latency, "floatcast_request_duration_seconds", NULL,
                "First request byte to answer handed to the socket, metering commit included.", out);
  static const char *const stages[GW_STAGES] = {"receive", "process", "metering", "write"};
  for (int st = 0; st < GW_STAGES; st++) {
    char labels[32];
    snprintf(labels, sizeof labels, "stage=\"%s\"", stages[st]);
    gw_hist_write(&m->stage[st], "floatcast_request_stage_seconds", labels,
                  st == 0 ? "Time per request stage: receive (first byte to parsed), process "
                            "(admission, cache or handler), metering (held for the usage "
                            "commit), write (socket)."
                          : NULL,
                  out);
  }
  gw_hist_write(&m->loop_busy, "floatcast_loop_busy_seconds", NULL,
                "Event-loop iterations: time spent running callbacks (a stall shows here).", out);
  fc_buf_printf(out,
                "# HELP floatcast_rate_limited_total Answers 429 (rate, quota or concurrency).\n"
                "# TYPE floatcast_rate_limited_total counter\n"
                "floatcast_rate_limited_total %llu\n",
                (unsigned long long)m->limited);
  uint64_t lookups = cache->hits + cache->misses;
  fc_buf_printf(out,
                "# HELP floatcast_cache_hits_total Insight answers served from the cache.\n"
                "# TYPE floatcast_cache_hits_total counter\n"
                "floatcast_cache_hits_total %llu\n"
                "# TYPE floatcast_cache_misses_total counter\n"
                "floatcast_cache_misses_total %llu\n"
                "# HELP floatcast_cache_hit_ratio Hits over lookups since start.\n"
                "# TYPE floatcast_cache_hit_ratio gauge\n"
                "floatcast_cache_hit_ratio %.6f\n"
                "# TYPE floatcast_cache_entries gauge\n"
                "floatcast_cache_entries %llu\n",
                (unsigned long long)cache->hits, (unsigned long long)cache->misses,
                lookups ? (double)cache->hits / (double)lookups : 0.0, (unsigned long long)cache->entries);
  fc_buf_printf(out,
                "# HELP floatcast_insight_computations_total Cacheable calls that missed the cache "
                "and computed (single flight leaders).\n"
                "# TYPE floatcast_insight_computations_total counter\n"
                "floatcast_insight_computations_total %llu\n"
                "# HELP floatcast_insight_coalesced_total Calls that missed the cache while the same "
                "computation was running: answered with its answer (shared), computed for themselves "
                "(alone: its answer was an error or not cacheable) or timed out waiting (timeout).\n"
                "# TYPE floatcast_insight_coalesced_total counter\n"
                "floatcast_insight_coalesced_total{outcome=\"shared\"} %llu\n"
                "floatcast_insight_coalesced_total{outcome=\"alone\"} %llu\n"
                "floatcast_insight_coalesced_total{outcome=\"timeout\"} %llu\n"
                "# TYPE floatcast_insight_flights gauge\n"
                "floatcast_insight_flights %llu\n",
                (unsigned long long)m->flight_led, (unsigned long long)m->flight_shared,
                (unsigned long long)m->flight_alone, (unsigned long long)m->flight_timeout,
                (unsigned long long)m->flight_open);
  fc_buf_printf(out,
                "# HELP floatcast_pool_jobs_total Handlers and session lookups run on the gateway's "
                "request threads and handed back to the loop.\n"
                "# TYPE floatcast_pool_jobs_total counter\n"
                "floatcast_pool_jobs_total %llu\n"
                "# HELP floatcast_pool_wakeups_total Wake-ups of the loop that handed those jobs back "
                "(one carries every job finished since the last).\n"
                "# TYPE floatcast_pool_wakeups_total counter\n"
                "floatcast_pool_wakeups_total %llu\n",
                (unsigned long long)m->pool_jobs, (unsigned long long)m->pool_wakeups);
  if (gate)
    fc_buf_printf(out,
                  "# HELP floatcast_compute_refused_total Thread-pool calls refused at the gate: "
                  "too_many_concurrent (429, the tenant's max_concurrent), queue_full and "
                  "queue_timeout (503 overloaded).\n"
                  "# TYPE floatcast_compute_refused_total counter\n"
                  "floatcast_compute_refused_total{reason=\"too_many_concurrent\"} %llu\n"
                  "floatcast_compute_refused_total{reason=\"queue_full\"} %llu\n"
                  "floatcast_compute_refused_total{reason=\"queue_timeout\"} %llu\n"
                  "# HELP floatcast_compute_running Thread-pool calls running (heavy: model work).\n"
                  "# TYPE floatcast_compute_running gauge\n"
                  "floatcast_compute_running{kind=\"all\"} %llu\n"
                  "floatcast_compute_running{kind=\"heavy\"} %llu\n"
                  "# HELP floatcast_compute_waiting Thread-pool calls waiting at the gate.\n"
                  "# TYPE floatcast_compute_waiting gauge\n"
                  "floatcast_compute_waiting %llu\n",
                  (unsigned long long)gate->too_many, (unsigned long long)gate->queue_full,
                  (unsigned long long)gate->queue_timeout, (unsigned long long)gate->running,
                  (unsigned long long)gate->running_heavy, (unsigned long long)gate->waiting);
  if (!meter) return;
  uint64_t pending = meter->queued - meter->committed - meter->failed;
  fc_buf_printf(out,
                "# HELP floatcast_metering_records_total Usage records by outcome.\n"
                "# TYPE floatcast_metering_records_total counter\n"
                "floatcast_metering_records_total{state=\"committed\"} %llu\n"
                "floatcast_metering_records_total{state=\"failed\"} %llu\n"
                "# TYPE floatcast_metering_pending gauge\n"
                "floatcast_metering_pending %llu\n"
                "# TYPE floatcast_metering_batches_total counter\n"
                "floatcast_metering_batches_total %llu\n"
                "# HELP floatcast_metering_lag_seconds Queue to durable commit of usage records.\n"
                "# TYPE floatcast_metering_lag_seconds summary\n"
                "floatcast_metering_lag_seconds_sum %.6f\n"
                "floatcast_metering_lag_seconds_count %llu\n"
                "# TYPE floatcast_metering_lag_max_seconds gauge\n"
                "floatcast_metering_lag_max_seconds %.6f\n",
                (unsigned long long)meter->committed, (unsigned long long)meter->failed, (unsigned long long)pending,
                (unsigned long long)meter->batches, (double)meter->lag_ns_sum / 1e9,
                (unsigned long long)meter->committed, (double)meter->lag_ns_max / 1e9);
  gw_hist_write(&meter->wait, "floatcast_metering_wait_seconds", NULL,
                "A usage record queued until its group commit begins.", out);
  gw_hist_write(&meter->commit, "floatcast_metering_commit_seconds", NULL,
                "One group commit of usage records, BEGIN to COMMIT.", out);
  gw_hist_write(&meter->commit_cpu, "floatcast_metering_commit_cpu_seconds", NULL,
                "The writer thread's CPU time in one group commit (the rest of the commit's "
                "time is waiting: disk, locks, scheduling).",
                out);
  gw_hist_write(&meter->deliver, "floatcast_metering_deliver_seconds", NULL,
                "Commit done until the loop takes the record back (the answer left before, "
                "sent by the writer, unless the socket was full).",
                out);
  gw_hist_write(&meter->send, "floatcast_metering_send_seconds", NULL,
                "Commit done until the writer has sent the batch's answers.", out);
  fc_buf_puts(out, "# HELP floatcast_metering_batch_records Records per group commit.\n"
                   "# TYPE floatcast_metering_batch_records histogram\n");
  uint64_t cum = 0;
  for (int b = 0; b < GW_BATCH_BUCKETS; b++) {
    cum += meter->batch_size[b];
    if (b < GW_BATCH_BUCKETS - 1)
      fc_buf_printf(out, "floatcast_metering_batch_records_bucket{le=\"%d\"} %llu\n", 1 << b, (unsigned long long)cum);
  }
  fc_buf_printf(out,
                "floatcast_metering_batch_records_bucket{le=\"+Inf\"} %llu\n"
                "floatcast_metering_batch_records_sum %llu\n"
                "floatcast_metering_batch_records_count %llu\n",
                (unsigned long long)cum, (unsigned long long)(meter->committed + meter->failed),
                (unsigned long long)meter->batches);
  gw_hist_write(&meter->checkpoint, "floatcast_wal_checkpoint_seconds", NULL,
                "Background PASSIVE WAL checkpoints (off the commit path).", out);
  fc_buf_printf(out,
                "# TYPE floatcast_wal_checkpoint_failures_total counter\n"
                "floatcast_wal_checkpoint_failures_total %llu\n"
                "# HELP floatcast_wal_frames WAL frames after the metering writer's last commit.\n"
                "# TYPE floatcast_wal_frames gauge\n"
                "floatcast_wal_frames %lld\n",
                (unsigned long long)meter->checkpoint_failed, (long long)meter->wal_frames);
}
