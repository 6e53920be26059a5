// trace_tasks.mjs: where a page_trace.mjs trace's main-thread time went.
// Not a test: it reads a trace written by page_trace.mjs and prints, per
// phase (the user-timing marks page_trace sets), every main-thread task over
// a CPU or wall threshold with what ran inside it (script, style, layout,
// paint, garbage collection, messages), and the worker threads' tasks over
// the same threshold. It is how the slow what-ifs were found (docs/benchmarks.md).
//
//   node tests/bench/page/trace_tasks.mjs trace.json [min CPU ms, 8] [min wall ms, 50]
import fs from 'node:fs';

const [file, minCpuArg, minWallArg] = process.argv.slice(2);
if (!file) throw new Error('usage: trace_tasks.mjs trace.json [min CPU ms] [min wall ms]');
const minCpu = Number(minCpuArg ?? 8), minWall = Number(minWallArg ?? 50);
const { traceEvents: ev } = JSON.parse(fs.readFileSync(file, 'utf8'));

const threadName = new Map(ev.filter((e) => e.name === 'thread_name').map((e) => [`${e.pid}:${e.tid}`, e.args.name]));
const key = (e) => `${e.pid}:${e.tid}`;
const mainKeys = [...threadName].filter(([, n]) => n === 'CrRendererMain').map(([k]) => k);
const workerKeys = [...threadName].filter(([, n]) => /Worker/.test(n)).map(([k]) => k);
const marks = ev.filter((e) => mainKeys.includes(key(e)) && /user_timing/.test(e.cat) && e.ph !== 'e')
  .map((e) => ({ name: e.name, ts: e.ts })).sort((a, b) => a.ts - b.ts);
const phaseOf = (ts) => marks.filter((m) => m.ts <= ts).at(-1)?.name ?? 'before';

// The events inside one task: complete events ('X') on its thread within its span, by name, summed
// (nested ones of one name are not double counted: only the outermost of each name).
const INSIDE = /^(FunctionCall|EvaluateScript|v8\.(compile|execute)|UpdateLayoutTree|Layout|Paint|PrePaint|Layerize|Commit|HitTest|ParseHTML|MinorGC|MajorGC|V8\.GC.*|EventDispatch|TimerFire|FireAnimationFrame|RequestAnimationFrame|v8\.callFunction|HandlePostMessage|ScheduleStyleRecalculation|IntersectionObserverController::computeIntersections|UpdateLayer|PaintImage)$/;
function inside(task, byThread) {
  const out = new Map();
  const end = task.ts + task.dur;
  let lastEnd = new Map();
  for (const e of byThread) {
    if (e.ts < task.ts) continue;
    if (e.ts >= end) break;
    if (e === task || !INSIDE.test(e.name)) continue;
    const prev = lastEnd.get(e.name) ?? -1;
    if (e.ts < prev) continue; // nested in one of the same name
    lastEnd.set(e.name, e.ts + (e.dur || 0));
    const url = e.args?.data?.url ? ` ${e.args.data.url.split('/').pop()}:${e.args.data.lineNumber ?? ''}`
      : e.args?.data?.functionName ? ` ${e.args.data.functionName}` : e.args?.data?.type ? ` ${e.args.data.type}` : '';
    const k = e.name + (e.name === 'FunctionCall' || e.name === 'EventDispatch' ? url : '');
    out.set(k, (out.get(k) || 0) + (e.dur || 0) / 1000);
  }
  return [...out].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([n, ms]) => `${n} ${ms.toFixed(1)}`).join(', ');
}

function report(label, keys) {
  for (const k of keys) {
    const on = ev.filter((e) => key(e) === k && e.ph === 'X').sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    const tasks = on.filter((e) => e.name === 'ThreadControllerImpl::RunTask');
    const slow = tasks.filter((t) => (t.tdur ?? t.dur) / 1000 >= minCpu || t.dur / 1000 >= minWall);
    console.log(`${label} ${threadName.get(k)} (${k}): ${tasks.length} tasks, ${slow.length} over ${minCpu} ms CPU or ${minWall} ms wall`);
    for (const t of slow) {
      console.log(`  [${phaseOf(t.ts)}] +${((t.ts - (marks[0]?.ts ?? t.ts)) / 1000).toFixed(0)} ms: wall ${(t.dur / 1000).toFixed(1)}, `
        + `CPU ${((t.tdur ?? t.dur) / 1000).toFixed(1)}: ${inside(t, on)}`);
    }
  }
}
report('main', mainKeys);
report('worker', workerKeys);
