// A study's spec and trials as the views use them.

export const STATES = ['REQUESTED', 'ACTIVE', 'STOPPING', 'SUCCEEDED', 'INFEASIBLE'];
export const UNFINISHED = 'state=REQUESTED OR state=ACTIVE OR state=STOPPING';

// The parameters in spec order, conditional children after their parent
// (the order of the CSV columns).
export function flatParams(spec) {
  const out = [];
  const walk = (ps) => {
    for (const p of ps || []) {
      const d = { id: p.parameterId, log: p.scaleType === 'UNIT_LOG_SCALE' };
      if (p.categoricalValueSpec) {
        d.kind = 'categorical';
        d.values = p.categoricalValueSpec.values;
      } else if (p.discreteValueSpec) {
        d.kind = 'discrete';
        d.values = p.discreteValueSpec.values.map(Number);
      } else {
        const s = p.doubleValueSpec || p.integerValueSpec;
        d.kind = p.doubleValueSpec ? 'double' : 'integer';
        d.min = Number(s.minValue);
        d.max = Number(s.maxValue);
      }
      out.push(d);
      for (const c of p.conditionalParameterSpecs || []) walk([c.parameterSpec]);
    }
  };
  walk(spec.parameters);
  return out;
}

export function metricsOf(spec) {
  return (spec.metrics || []).map((m) => ({
    id: m.metricId,
    max: m.goal === 'MAXIMIZE',
    safety: m.safetyConfig ? Number(m.safetyConfig.safetyThreshold) : null,
  }));
}

export function objectives(metrics) {
  return metrics.filter((m) => m.safety === null);
}

// CSV rows (header first) -> trials.
export function fromCsv(rows, params, metrics) {
  const head = rows[0] || [];
  const col = (name, prefix) => {
    let i = head.indexOf(name);
    if (i < 0) i = head.indexOf(`${prefix}.${name}`);
    return i;
  };
  const pc = params.map((p) => col(p.id, 'param'));
  const mc = metrics.map((m) => col(m.id, 'metric'));
  const [cs, ce, cc] = ['startTime', 'endTime', 'clientId'].map((n) => head.lastIndexOf(n));
  const out = [];
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    if (row.length < head.length) continue;
    const t = { id: Number(row[0]), state: row[1], p: {}, m: {},
      start: row[cs], end: row[ce], clientId: row[cc] };
    params.forEach((p, i) => {
      const v = row[pc[i]];
      if (v !== '') t.p[p.id] = p.kind === 'categorical' ? v : Number(v);
    });
    metrics.forEach((m, i) => {
      const v = row[mc[i]];
      if (v !== '') t.m[m.id] = Number(v);
    });
    out.push(t);
  }
  return out;
}

// SUCCEEDED with every metric and every safety threshold met.
export function feasible(t, metrics) {
  if (t.state !== 'SUCCEEDED') return false;
  for (const m of metrics) {
    const v = t.m[m.id];
    if (v === undefined || Number.isNaN(v)) return false;
    if (m.safety !== null && (m.max ? v < m.safety : v > m.safety)) return false;
  }
  return true;
}

export function better(m, a, b) {
  return m.max ? a > b : a < b;
}

export function best(trials, metrics, m) {
  let b = null;
  for (const t of trials) {
    if (!feasible(t, metrics)) continue;
    const v = t.m[m.id];
    if (b === null || better(m, v, b.m[m.id])) b = t;
  }
  return b;
}

// The feasible trials no other feasible trial dominates on objs.
export function paretoFront(trials, metrics, objs) {
  const pts = trials.filter((t) => feasible(t, metrics));
  const sign = objs.map((o) => (o.max ? 1 : -1));
  const dominates = (a, b) => {
    let strict = false;
    for (let k = 0; k < objs.length; k++) {
      const x = sign[k] * a.m[objs[k].id], y = sign[k] * b.m[objs[k].id];
      if (x < y) return false;
      if (x > y) strict = true;
    }
    return strict;
  };
  // Sort by the first objective (best first): only earlier points can
  // dominate a later one.
  pts.sort((a, b) => sign[0] * (b.m[objs[0].id] - a.m[objs[0].id]));
  const front = [];
  for (const p of pts) if (!front.some((f) => dominates(f, p))) front.push(p);
  return front.filter((p) => !front.some((f) => f !== p && dominates(f, p)));
}

// A trial ended early: it was stopped (STOPPING), or it has fewer steps
// than the study's longest curve (median-rule stops end that way).
export function earlyStopped(curves) {
  let longest = 0;
  for (const c of curves) if (c.points.length) longest = Math.max(longest, c.points.at(-1)[0]);
  const out = new Set();
  for (const c of curves) {
    if (!c.points.length) continue;
    const last = c.points.at(-1)[0];
    if (c.state === 'STOPPING' || (c.state === 'SUCCEEDED' && last < longest)) out.add(c.id);
  }
  return out;
}

// A trial's measurements as [x, y] points of metric id: x the step count,
// else the elapsed seconds, else the measurement's position.
export function curveOf(trial, metricId) {
  const pts = [];
  (trial.measurements || []).forEach((m, i) => {
    const v = (m.metrics || []).find((x) => x.metricId === metricId);
    if (!v) return;
    let x = i + 1;
    if (m.stepCount !== undefined) x = Number(m.stepCount);
    else if (m.elapsedDuration) x = parseFloat(m.elapsedDuration);
    pts.push([x, Number(v.value)]);
  });
  return pts;
}
