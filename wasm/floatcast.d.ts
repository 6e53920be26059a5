// floatcast.d.ts: types of floatcast.mjs (hand-written; keep in step with it).
//
// Money is a decimal string in the currency's scale ("1250000.000000");
// model quantities (path values) are numbers in currency units; times are
// ISO 8601 UTC strings. See spec/projection.md for the projection's fields.

/** Records: CSV text (header row), JSON text (array or NDJSON), or objects. */
export type Records = string | ReadonlyArray<Record<string, unknown>>;

/** A time: ISO 8601 text, whole epoch seconds, or a Date. */
export type TimeInput = string | number | Date;

export interface TreasuryData {
  accounts?: Records | null;
  transfers?: Records | null;
  streams?: Records | null;
}

export interface ProjectOptions {
  /** as_of; required. */
  now: TimeInput;
  /** 1..720, default 48. */
  horizon_hours?: number;
  /** Default: the only tenant in the data. */
  tenant_id?: string | null;
  /** Default: every currency of the tenant. */
  currency?: string | null;
  /** "USDC=25000,USD=10000" or "*=0"; default 0 for every currency. */
  floors?: string | null;
  /** "USD/USDC=1,EUR/EURC=1"; default the stablecoin pegs. */
  fx?: string | null;
  /** 48 h depletion probability at or above which risk is medium (0.1). */
  risk_medium?: number;
  /** ... high (0.5). */
  risk_high?: number;
  /** Recommend moving money this many hours before a breach (12). */
  lead_hours?: number;
  /** Currency scale overrides "JPY=0,DAI=6". */
  currencies?: string | null;
  /** "rule" (default: balance - scheduled - stream drain), "ml" (known flows
   * exact plus simulated unscheduled flows: calibrated first-passage depletion
   * probabilities, band, time to breach, drivers, rebalancing from the paths;
   * the fitted model is kept, so what-ifs of known flows reuse it) or "gbdt"
   * (the earlier cash-flow-tree band; seconds). */
  method?: 'rule' | 'ml' | 'gbdt' | null;
  /** Seed of the simulation (0): the same seed gives the same bytes as native. */
  seed?: number;
  /** Simulated paths, 100..100000 (1000). */
  paths?: number;
  /** Rebalancing aims below this P(breach within the horizon) (0.05). */
  target_probability?: number;
  /** What-if changes applied to a copy of the data before projecting. */
  scenario?: Scenario | null;
}

/** A what-if scenario (core/include/fc/whatif.h). Unknown members and ids are errors. */
export interface Scenario {
  /** Transfer rows (canonical format) added or replacing the same id; tenant_id may be left out. */
  transfers?: Array<Record<string, string | number | null>>;
  /** Stream rows added or replacing the same id. */
  streams?: Array<Record<string, string | number | null>>;
  /** Account rows, e.g. a balance as it will be. */
  accounts?: Array<Record<string, string | number | boolean | null>>;
  /** Ids of pending transfers that will not happen. */
  cancel_transfers?: string[];
  pause_streams?: string[];
  resume_streams?: string[];
  /** New flow rate per second by stream id (decimal text, held exactly to 18 decimals). */
  stream_rates?: Record<string, string>;
}

export interface PathPoint {
  hour: number;
  at: string;
  p10: number;
  p50: number;
  p90: number;
  scheduled_out: number;
  stream_drain: number;
  predicted_out: number;
  predicted_in: number;
  [field: string]: unknown;
}

export type RunwayStatus = 'critical' | 'warning' | 'healthy' | 'paused' | 'cancelled';

export interface StreamRunway {
  id: string;
  remaining: string;
  /** null when the stream does not deplete. */
  hours_until_depleted: number | null;
  runway_status: RunwayStatus;
  [field: string]: unknown;
}

export interface CurrencyProjection {
  currency: string;
  current_balance: string;
  rule: {
    scheduled_outflows: string;
    stream_drain: string;
    projected_balance: string;
    [field: string]: unknown;
  };
  path: PathPoint[];
  depletion: {
    floor: string;
    probability: { '24h': number | null; '48h': number | null; '72h': number | null; '96h': number | null };
    expected_at: string | null;
    risk: 'low' | 'medium' | 'high';
    /** ml: the simulated share before calibration; null otherwise. */
    probability_raw: { '24h': number | null; '48h': number | null; '72h': number | null; '96h': number | null } | null;
    /** Hours by which P(breached) reaches 10 / 50 / 90 %; null when not within the horizon. */
    time_to_breach_hours: { p10: number | null; p50: number | null; p90: number | null };
    /** What pushes the currency toward its floor, largest first. */
    drivers: Driver[];
  };
  streams: StreamRunway[];
  model: { name: string; version: number; [field: string]: unknown };
  [field: string]: unknown;
}

export interface Driver {
  kind: 'scheduled_transfer' | 'stream' | 'recurring_payment' | 'unscheduled_outflows' | 'month_end';
  /** Transfer, stream or counterparty id; null for spread flows. */
  id: string | null;
  /** Expected outflow it brings within the risk window (decimal text). */
  amount: string;
  at: string | null;
  /** Its share of all expected outflows in the window. */
  share: number;
  text: string;
}

export interface Recommendation {
  from_currency: string;
  to_currency: string;
  amount: string;
  by: string;
  reason: string;
  /** P(to_currency below its floor within the horizon) before and after the move. */
  probability_before: number | null;
  probability_after: number | null;
  /** The target the amount was chosen for (ml), null for the rule. */
  target_probability: number | null;
}

export interface Projection {
  tenant_id: string;
  as_of: string;
  horizon_hours: number;
  method: 'rule' | 'ml' | 'gbdt';
  currencies: CurrencyProjection[];
  recommendations: Recommendation[];
}

export interface CalendarOptions {
  /** Business-hours time zone, -840..840 (0). */
  utc_offset_minutes?: number;
  /** 9 */
  business_start_hour?: number;
  /** 17, exclusive */
  business_end_hour?: number;
  /** 3 */
  month_end_days?: number;
}

export interface CalendarFeatures {
  at: string;
  epoch: number;
  year: number;
  month: number;
  day_of_month: number;
  days_in_month: number;
  hour: number;
  /** 1 = Monday .. 7 = Sunday (UTC). */
  iso_dow: number;
  is_business_hours: boolean;
  is_month_end: boolean;
  week_period: 'week_start' | 'mid_week' | 'weekend';
}

export interface DemoOptions {
  /** 42; at most 2^53 - 1. */
  seed?: number;
  /** "demo" */
  tenant_id?: string;
  /** End of history, 2025-12-01T12:00:00Z. */
  now?: TimeInput;
  /** 11 */
  history_days?: number;
}

export interface DemoData {
  tenant_id: string;
  seed: number;
  now: string;
  accounts: string;
  transfers: string;
  streams: string;
}

/** Partner transactions (spec/formats.md): CSV text, JSON text or objects. */
export interface SegmentOptions {
  /** Only this partner's users (default: all). */
  partner?: string | null;
  /** Inclusive start. */
  from?: TimeInput;
  /** Exclusive end; a date alone ("2024-06-30") includes that whole day. */
  to?: TimeInput;
  /** "kmeans" (default) or "dbscan". */
  method?: 'kmeans' | 'dbscan';
  /** 1..1000, or "auto" (default): the k in 2..8 with the best silhouette. */
  k?: number | 'auto';
  /** 0..2^31-1 (0). */
  seed?: number;
  /** DBSCAN radius in scaled units; 0 (default) takes the k-distance knee. */
  eps?: number;
  /** DBSCAN density, 1..100000 (5). */
  min_pts?: number;
  /** Windows for trend and membership, 2..366 (4). */
  windows?: number;
  /** Recency weight half-life in days (90). */
  half_life_days?: number;
  /** List every user (true); false gives the segment summaries only. */
  include_users?: boolean;
}

/** Options of trends(): `floatcast trends` flags under snake_case names. */
export interface TrendsOptions {
  /** 'day' (default), 'week' (from Monday) or 'month'. */
  granularity?: 'day' | 'week' | 'month';
  partner?: string;
  /** Required when the selected rows hold several currencies. */
  currency?: string;
  /** ISO 8601 time, or a local date (YYYY-MM-DD at utc_offset); inclusive. */
  from?: string;
  /** Exclusive; a date alone includes that whole local day. */
  to?: string;
  /** 'Z', '+HH:MM' or '-HH:MM' (local calendar of the buckets). */
  utc_offset?: string;
  /** Anomaly band in robust sigmas (3). */
  k?: number;
}

export interface TrendsSeason {
  mean: number;
  peak: string;
  trough: string;
  effects: { name: string; effect: number; percent: number }[];
}

export interface Trends {
  currency: string;
  granularity: 'day' | 'week' | 'month';
  utc_offset_minutes: number;
  transactions: number;
  partial_buckets: number;
  points: number;
  buckets: {
    start: string[]; revenue: string[]; count: number[]; trend: number[]; seasonal: number[];
    expected: number[]; lower: number[]; upper: number[];
  };
  trend: {
    start: number; end: number; change_percent: number | null; rate_unit: string;
    changepoints: { date: string; index: number; rate_change: number; direction: 'up' | 'down' }[];
  };
  seasonality: { day_of_week: TrendsSeason | null; month_of_year: TrendsSeason | null };
  sigma: number;
  anomalies: {
    date: string; index: number; revenue: string; expected: number; trend: number; size: number;
    z: number; ratio_to_trend: number | null; direction: 'above' | 'below';
  }[];
  /** Data fields first; text is the plain-language sentence. */
  highlights: { kind: string; text: string; [field: string]: unknown }[];
}

export interface Segment {
  id: number;
  label: string;
  size: number;
  metrics: {
    avg_spend: number;
    avg_transaction_amount: number;
    frequency_30d: number;
    recency_days: number;
    tenure_days: number;
    refund_share: number;
    declining_share: number;
    top_types: string[];
    [field: string]: unknown;
  };
  top_categories: string[];
}

export interface SegmentUser {
  user_id: string;
  partner_id: string;
  /** Segment id; -1 for DBSCAN noise. */
  segment: number;
  /** Probability per segment id ("-1": noise), summing to 1. */
  membership: Record<string, number>;
  declining: boolean;
  trend: 'growing' | 'stable' | 'declining';
  /** The previous window's segment differs. */
  moving: boolean;
  [field: string]: unknown;
}

export interface Segments {
  segments: Segment[];
  /** Absent with include_users: false. */
  users?: SegmentUser[];
  method: 'kmeans' | 'dbscan';
  k: number;
  /** Sampled silhouette; null when undefined. */
  silhouette: number | null;
  n_users: number;
  noise: number;
  /** k = auto: the silhouette of each k tried (null: k not fitted). */
  k_selection?: { k: number; silhouette: number | null }[];
  /** DBSCAN: the radius used. */
  eps?: number;
  [field: string]: unknown;
}

/** CSV text (long form series_id,timestamp,value, or M4 wide form with
 * format "m4"), an array of numbers (one series "y"), or {id: numbers};
 * null in an array marks a missing value. */
export type SeriesInput = string | ReadonlyArray<number | null> | Record<string, ReadonlyArray<number | null>>;

export interface ForecastOptions {
  /** Steps ahead, 1..100000; required. */
  horizon: number;
  /** Seasonal period(s), whole numbers >= 2, ascending (at most 4); 1 alone
   * is R's "no season" (not even the freq's default). */
  season?: number | number[];
  /** Interval levels in (0, 100), at most 8 ([80, 95]). */
  levels?: number | number[];
  /** "auto" (default; = "ensemble"), "weighted", "ensemble-arima", "ensemble-neural", or a
   * model name: ets, arima, theta, otheta, mstl, prophet, neural, snaive, naive2, naive.
   * Here "neural" trains a small net on each series alone (the CLI trains one global
   * net on all its series). */
  model?: string;
  /** Step of ISO-timestamped long input: rows must lie on its grid (hours,
   * days, weeks or calendar months from each series' first row); sets the
   * default season (hour [24, 168], day 7, week 52, month 12) and the
   * forecast times. */
  freq?: 'hour' | 'day' | 'week' | 'month';
  /** Prophet's calendar regressors (business_hours: freq hour; month_end:
   * freq hour or day). */
  regressors?: ('business_hours' | 'month_end')[];
  /** Return each series' fitted model bytes as `model` (a single model,
   * no calibrate), as `--save-model` writes them. */
  save_model?: boolean;
  /** Conformal intervals for a single model too (false). */
  calibrate?: boolean;
  /** Validation origins of the ensemble, 1..1000 (4). */
  origins?: number;
  /** "long" (default) or "m4", for CSV text. */
  format?: 'long' | 'm4';
}

/** Forecast from saved model bytes (`floatcast forecast --load-model`):
 * no fit; the series, if given, must be one and supplies the id and times. */
export interface LoadedForecastOptions {
  horizon: number;
  load_model: Uint8Array | ArrayBuffer;
  levels?: number | number[];
  freq?: 'hour' | 'day' | 'week' | 'month';
  format?: 'long' | 'm4';
}

export interface SeriesForecast {
  id: string;
  /** With save_model: the fitted model's bytes. */
  model?: Uint8Array;
  /** Interior missing values filled by interpolation. */
  filled: number;
  /** Times of the forecast steps (ISO input), null for step-indexed input. */
  timestamps: string[] | null;
  mean: number[];
  intervals: { level: number; lo: number[]; hi: number[] }[];
}

export interface Forecasts {
  model: string;
  horizon: number;
  series: SeriesForecast[];
}

export type BacktestOptions = Omit<ForecastOptions, 'levels' | 'save_model'>;

export interface DecomposeOptions {
  /** Seasonal period(s); mstl needs season or freq; 1 alone is "no season"
   * (mstl then gives trend and remainder only). */
  season?: number | number[];
  /** Step of ISO-timestamped long input (as forecast's freq); without season
   * mstl uses its periods (hour 24,168; day 7; week 52; month 12). */
  freq?: 'hour' | 'day' | 'week' | 'month';
  /** "mstl" (default) or "prophet". */
  method?: 'mstl' | 'prophet';
  /** Robust STL in mstl (default true; --robust on|off): a spike is flagged
   * alone, not with its neighbours. false is plain MSTL. */
  robust?: boolean;
  /** Anomaly band: "robust" (median -/+ k robust sigmas, default) or "interval". */
  band?: 'robust' | 'interval';
  /** Robust sigmas (3). */
  k?: number;
  /** Interval level in percent (99). */
  level?: number;
  format?: 'long' | 'm4';
}

/** One series' decomposition, as `floatcast decompose --json`. */
export interface Decomposition {
  series_id: string;
  n: number;
  sigma: number;
  components: string[];
  timestamp?: string[];
  y: number[];
  trend: number[];
  seasonal: Record<string, number[]>;
  remainder: number[];
  lower: number[];
  upper: number[];
  anomalies: number[];
  changepoints: { index: number; timestamp?: string; rate_change: number }[];
}

export interface BacktestMetrics {
  mae: number;
  rmse: number;
  smape: number;
  /** null when undefined (a constant in-sample series). */
  mase: number | null;
  coverage80: number;
  coverage95: number;
}

export interface Backtest {
  model: string;
  horizon: number;
  series: (BacktestMetrics & { id: string; origins: number })[];
  all: BacktestMetrics & { series: number };
}

/** A numeric table: CSV text with a header row, or row objects; an empty
 * cell, NA, NaN, null or undefined is a missing value. */
export type TableInput = string | ReadonlyArray<Record<string, number | null | undefined>>;

export interface GbdtTrainOptions {
  /** The target column; every other column is a feature. Required. */
  target: string;
  /** "l2" (default), "l1", "huber", "quantile", "poisson", "tweedie". */
  objective?: string;
  /** Quantile level (0.5). */
  alpha?: number;
  learning_rate?: number;
  rounds?: number;
  num_leaves?: number;
  /** -1: unlimited. */
  max_depth?: number;
  min_data_in_leaf?: number;
  seed?: number;
  /** Feature columns with integer categories 0..254. */
  categorical?: string[];
}

export interface GbdtModel {
  /** The saved model (the bytes `floatcast gbdt train` writes). */
  model: Uint8Array;
  trees: number;
  rows: number;
  features: string[];
}

/** Thrown by every function on bad input; message is the core's message. */
export class FloatcastError extends Error {
  /** fc_status name: "EINVAL", "EPARSE", "ERANGE", "ENOTFOUND", ... */
  code: string;
  /** Bad rows of a rejected batch (at most 50). */
  rows: { row: number; message: string }[];
  constructor(message: string, code?: string, rows?: { row: number; message: string }[]);
}

/** projection.h, fc_projection_write_rule_kit: minor units as decimal strings, times in epoch seconds. */
export interface RuleKit {
  as_of: string;
  transfers: { currency: string; id: string; amount: string; at: number; text: string }[];
  streams: {
    currency: string; id: string; name: string; rate_units: string; rate_decimals: number; scale: number;
    begin: number; remaining: string; dry_hours: number | null; dry_text: string | null;
  }[];
}

export interface Floatcast {
  version(): string;
  project(data: TreasuryData, opts: ProjectOptions): Projection;
  /** The projection as the core's JSON text (identical to the native CLI's). */
  projectJSON(data: TreasuryData, opts: ProjectOptions): string;
  /** The rule kit of the data a projection with opts reads, its scenario applied: what the rule
   * answer's depletion, drivers and recommendations read besides the answer (projection.h). */
  ruleKit(data: TreasuryData, opts: ProjectOptions): RuleKit;
  /** The module keeps the gbdt method's trained cash-flow trees (64 sets), the ml method's last
   * fitted flow model and the last data set it read: a projection whose history was seen before (a
   * what-if that changes only known flows) fits nothing, and the same data is not read again.
   * Answers are the same bytes with or without it. */
  modelCache(): {
    hits: number; misses: number; entries: number; model_fits: number; model_reuses: number;
    /** ml: currencies whose simulated paths a projection reused / simulated. */
    simulation_reuses: number; simulations: number;
    /** Projections that read their data set / reused the last one read (the same bytes, the same
     * `currencies`): the module keeps the last data set it read. */
    data_reads: number; data_reuses: number;
  };
  calendar(ts: TimeInput, opts?: CalendarOptions): CalendarFeatures;
  demo(opts?: DemoOptions): DemoData;
  /** Customer segments of partner transactions. */
  segment(transactions: Records, opts?: SegmentOptions): Segments;
  /** The same as the core's JSON text: `floatcast segment --json`, byte for byte. */
  segmentJSON(transactions: Records, opts?: SegmentOptions): string;
  /** Revenue trend, changepoints, seasonality, anomalies, highlights, as `floatcast trends --json`. */
  trends(transactions: Records, opts?: TrendsOptions): Trends;
  /** The same as the core's JSON text, byte for byte. */
  trendsJSON(transactions: Records, opts?: TrendsOptions): string;
  /** Forecasts per series, as `floatcast forecast`. */
  forecast(series: SeriesInput, opts: ForecastOptions): Forecasts;
  /** Forecast from saved model bytes, as `floatcast forecast --load-model`. */
  forecast(series: SeriesInput | null, opts: LoadedForecastOptions): Forecasts;
  /** Rolling-origin accuracy per series and overall, as `floatcast backtest`. */
  backtest(series: SeriesInput, opts: BacktestOptions): Backtest;
  /** Trend, seasonal components, changepoints and anomalies per series. */
  decompose(series: SeriesInput, opts: DecomposeOptions): Decomposition[];
  /** The same as `floatcast decompose --json` prints it, byte for byte. */
  decomposeJSON(series: SeriesInput, opts: DecomposeOptions): string;
  /** Gradient-boosted trees on a table, as `floatcast gbdt train`. */
  gbdtTrain(table: TableInput, opts: GbdtTrainOptions): GbdtModel;
  /** One prediction per table row; the model's features are found by name. */
  gbdtPredict(model: Uint8Array | ArrayBuffer, table: TableInput): number[];
  /** Bytes malloc'd inside the module now. */
  heapInUse(): number;
  /** Size of the module's linear memory. */
  memoryBytes(): number;
}

export interface InitOptions {
  /** Bytes of floatcast_core.wasm (node reads the file itself if absent). */
  wasmBinary?: ArrayBuffer | Uint8Array;
  locateFile?: (path: string, prefix: string) => string;
}

export default function init(options?: InitOptions): Promise<Floatcast>;
