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
  /** "rule" (default: balance - scheduled - stream drain) or "ml" (adds the
   * cash-flow predictor's unscheduled flows with a calibrated p10-p90 band;
   * takes seconds, not milliseconds). */
  method?: 'rule' | 'ml' | null;
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
  /** New flow rate per second by stream id (decimal text). */
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
  };
  streams: StreamRunway[];
  model: { name: string; version: number; [field: string]: unknown };
  [field: string]: unknown;
}

export interface Recommendation {
  from_currency: string;
  to_currency: string;
  amount: string;
  by: string;
  reason: string;
}

export interface Projection {
  tenant_id: string;
  as_of: string;
  horizon_hours: number;
  method: 'rule' | 'ml';
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

/** Thrown by every function on bad input; message is the core's message. */
export class FloatcastError extends Error {
  /** fc_status name: "EINVAL", "EPARSE", "ERANGE", "ENOTFOUND", ... */
  code: string;
  /** Bad rows of a rejected batch (at most 50). */
  rows: { row: number; message: string }[];
  constructor(message: string, code?: string, rows?: { row: number; message: string }[]);
}

export interface Floatcast {
  version(): string;
  project(data: TreasuryData, opts: ProjectOptions): Projection;
  /** The projection as the core's JSON text (identical to the native CLI's). */
  projectJSON(data: TreasuryData, opts: ProjectOptions): string;
  calendar(ts: TimeInput, opts?: CalendarOptions): CalendarFeatures;
  demo(opts?: DemoOptions): DemoData;
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
