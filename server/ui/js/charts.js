// The study's charts, drawn with Apache ECharts (vendored, see
// vendor/echarts-LICENSE.txt). Each function draws into its element and
// writes what it drew into the element's data attributes (points, series),
// which the browser tests read.
import * as echarts from '../vendor/echarts.esm.min.js';
import { feasible, paretoFront } from './model.js';
import { num } from './dom.js';

const GREY = '#9aa0a6';
const INFEASIBLE = '#d93025';
const charts = new Set();
let resizeHooked = false;

function chartIn(el) {
  let c = echarts.getInstanceByDom(el);
  if (!c) {
    c = echarts.init(el, null, { renderer: 'canvas' });
    charts.add(c);
  }
  if (!resizeHooked) {
    resizeHooked = true;
    window.addEventListener('resize', () => charts.forEach((x) => x.resize()));
  }
  return c;
}

export function disposeIn(root) {
  for (const c of [...charts]) {
    if (root.contains(c.getDom())) {
      charts.delete(c);
      c.dispose();
    }
  }
}

function draw(el, option, counts) {
  const c = chartIn(el);
  c.setOption({ aria: { enabled: true }, animation: false, ...option }, true);
  for (const [k, v] of Object.entries(counts)) el.dataset[k] = String(v);
  el.dataset.drawn = '1';
  return c;
}

function axisFor(p, name) {
  if (p.kind === 'categorical') return { type: 'category', data: p.values, name };
  return { type: p.log ? 'log' : 'value', name, scale: true, nameLocation: 'middle',
    nameGap: 28, axisLabel: { formatter: num } };
}

const tooltip = { trigger: 'item', confine: true };

// Every trial's value and the best so far; infeasible trials on a strip
// of their own below.
export function history(el, trials, metrics, obj, onPick) {
  const pts = [], bad = [], bestLine = [];
  let best = null;
  const lo = trials.length ? trials[0].id : 0, hi = trials.length ? trials.at(-1).id : 1;
  for (const t of trials) {
    if (feasible(t, metrics)) {
      const v = t.m[obj.id];
      pts.push([t.id, v]);
      if (best === null || (obj.max ? v > best : v < best)) best = v;
      bestLine.push([t.id, best]);
    } else if (t.state === 'INFEASIBLE' || t.state === 'SUCCEEDED') {
      bad.push([t.id, 'infeasible']);
    }
  }
  const c = draw(el, {
    tooltip,
    legend: { top: 0 },
    grid: [{ left: 64, right: 24, top: 32, bottom: 88 }, { left: 64, right: 24, height: 22, bottom: 36 }],
    xAxis: [
      { type: 'value', name: 'trial', gridIndex: 0, min: lo, max: hi, axisLabel: { show: false } },
      { type: 'value', name: 'trial', gridIndex: 1, min: lo, max: hi, nameLocation: 'middle', nameGap: 24, minInterval: 1 },
    ],
    yAxis: [
      { type: 'value', name: obj.id, scale: true, gridIndex: 0, axisLabel: { formatter: num } },
      { type: 'category', data: ['infeasible'], gridIndex: 1 },
    ],
    dataZoom: [{ type: 'inside', xAxisIndex: [0, 1] }],
    series: [
      { name: obj.id, type: 'scatter', data: pts, symbolSize: 5, large: pts.length > 2000 },
      { name: `best ${obj.id}`, type: 'line', step: 'end', data: bestLine, showSymbol: false, color: '#188038' },
      { name: 'infeasible', type: 'scatter', data: bad, xAxisIndex: 1, yAxisIndex: 1, symbol: 'triangle', color: INFEASIBLE },
    ],
  }, { points: pts.length, infeasible: bad.length, series: 3 });
  c.off('click');
  if (onPick) c.on('click', (e) => e.value && onPick(e.value[0]));
}

// Parameters and the objective, one line per trial; drag along an axis
// to brush (the other lines fade).
export function parallel(el, trials, params, metrics, obj) {
  const dims = [...params.map((p) => ({ ...axisFor(p, p.id), dim: 0 })),
    { type: 'value', name: obj.id, scale: true }];
  dims.forEach((d, i) => { d.dim = i; delete d.nameLocation; delete d.nameGap; });
  const rowOf = (t) => [...params.map((p) => (t.p[p.id] === undefined ? '-' : t.p[p.id])),
    t.m[obj.id] === undefined ? '-' : t.m[obj.id]];
  const good = [], bad = [];
  for (const t of trials) {
    if (feasible(t, metrics)) good.push(rowOf(t));
    else if (t.state === 'SUCCEEDED' || t.state === 'INFEASIBLE') bad.push(rowOf(t));
  }
  const vals = good.map((r) => r.at(-1));
  draw(el, {
    tooltip: { trigger: 'item', confine: true },
    parallel: { left: 48, right: 80, top: 48, bottom: 32 },
    parallelAxis: dims,
    visualMap: vals.length ? {
      type: 'continuous', dimension: dims.length - 1, seriesIndex: 0,
      min: Math.min(...vals), max: Math.max(...vals), inRange: obj.max ? { color: ['#c6dbef', '#08306b'] } : { color: ['#08306b', '#c6dbef'] },
      right: 0, top: 'middle', calculable: true, text: [obj.id, ''],
    } : undefined,
    series: [
      { name: 'trials', type: 'parallel', data: good, lineStyle: { width: 1, opacity: 0.6 },
        inactiveOpacity: 0.03, activeOpacity: 1, progressive: 1000, smooth: false },
      { name: 'infeasible', type: 'parallel', data: bad, lineStyle: { width: 1, opacity: 0.5, type: 'dashed', color: INFEASIBLE } },
    ],
  }, { points: good.length, infeasible: bad.length, series: 2, axes: dims.length });
}

// The objective against one parameter.
export function slice(el, trials, p, metrics, obj) {
  const pts = [];
  for (const t of trials) {
    if (feasible(t, metrics) && t.p[p.id] !== undefined) pts.push([t.p[p.id], t.m[obj.id], t.id]);
  }
  draw(el, {
    tooltip,
    title: { text: p.id + (p.log ? ' (log)' : ''), left: 'center', textStyle: { fontSize: 13 } },
    grid: { left: 56, right: 16, top: 32, bottom: 40 },
    xAxis: { ...axisFor(p, p.id) },
    yAxis: { type: 'value', name: obj.id, scale: true, axisLabel: { formatter: num } },
    series: [{ type: 'scatter', data: pts, symbolSize: 5, large: pts.length > 2000 }],
  }, { points: pts.length, series: 1 });
}

function binsOf(p, trials, n) {
  if (p.kind === 'categorical') return { labels: p.values, at: (v) => p.values.indexOf(v) };
  let lo = Infinity, hi = -Infinity;
  const tf = p.log ? Math.log : (x) => x;
  for (const t of trials) {
    const v = t.p[p.id];
    if (v === undefined) continue;
    lo = Math.min(lo, tf(v));
    hi = Math.max(hi, tf(v));
  }
  if (!(hi > lo)) return { labels: [num(p.log ? Math.exp(lo) : lo)], at: (v) => (v === undefined ? -1 : 0) };
  const w = (hi - lo) / n;
  const labels = [];
  for (let i = 0; i < n; i++) {
    const mid = lo + (i + 0.5) * w;
    labels.push(num(p.log ? Math.exp(mid) : mid));
  }
  return { labels, at: (v) => (v === undefined ? -1 : Math.min(n - 1, Math.floor((tf(v) - lo) / w))) };
}

// Two parameters on a grid of cells coloured by the best value of the
// trials in each (log-scaled parameters binned on the log scale).
export function contour(el, trials, px, py, metrics, obj) {
  const good = trials.filter((t) => feasible(t, metrics));
  const bx = binsOf(px, good, 16), by = binsOf(py, good, 16);
  const cell = new Map();
  let counted = 0;
  for (const t of good) {
    const i = bx.at(t.p[px.id]), j = by.at(t.p[py.id]);
    if (i < 0 || j < 0) continue;
    counted++;
    const k = `${i},${j}`, v = t.m[obj.id], o = cell.get(k);
    if (o === undefined || (obj.max ? v > o : v < o)) cell.set(k, v);
  }
  const data = [...cell.entries()].map(([k, v]) => [...k.split(',').map(Number), v]);
  const vals = data.map((d) => d[2]);
  draw(el, {
    tooltip: { position: 'top', confine: true },
    grid: { left: 72, right: 96, top: 16, bottom: 56 },
    xAxis: { type: 'category', data: bx.labels, name: px.id + (px.log ? ' (log)' : ''), nameLocation: 'middle', nameGap: 36, splitArea: { show: true } },
    yAxis: { type: 'category', data: by.labels, name: py.id + (py.log ? ' (log)' : ''), splitArea: { show: true } },
    visualMap: vals.length ? { min: Math.min(...vals), max: Math.max(...vals), calculable: true, right: 0, top: 'middle',
      inRange: { color: obj.max ? ['#fff7ec', '#7f0000'] : ['#7f0000', '#fff7ec'] }, text: [`best ${obj.id}`, ''] } : undefined,
    series: [{ name: `best ${obj.id}`, type: 'heatmap', data }],
  }, { points: counted, cells: data.length, series: 1 });
}

export function importance(el, imp) {
  const rows = [...imp.importances].reverse();
  draw(el, {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 120, right: 64, top: 8, bottom: 32 },
    xAxis: { type: 'value', max: 1, name: 'share', nameLocation: 'middle', nameGap: 24 },
    yAxis: { type: 'category', data: rows.map((r) => r.parameterId) },
    series: [{ type: 'bar', data: rows.map((r) => Number(r.importance.toFixed(4))), color: '#1a73e8',
      label: { show: true, position: 'right', formatter: (p) => `${(p.value * 100).toFixed(1)}%` } }],
  }, { points: rows.length, series: 1 });
}

// Two objectives: every feasible trial, the non-dominated ones joined;
// trials that break a constraint apart, hollow.
export function pareto(el, trials, metrics, ox, oy) {
  const good = trials.filter((t) => feasible(t, metrics));
  const front = paretoFront(trials, metrics, [ox, oy]).sort((a, b) => a.m[ox.id] - b.m[ox.id]);
  const onFront = new Set(front.map((t) => t.id));
  const bad = trials.filter((t) => t.state === 'SUCCEEDED' && !feasible(t, metrics) &&
    t.m[ox.id] !== undefined && t.m[oy.id] !== undefined);
  const pt = (t) => [t.m[ox.id], t.m[oy.id], t.id];
  draw(el, {
    tooltip,
    legend: { top: 0 },
    grid: { left: 64, right: 24, top: 32, bottom: 48 },
    xAxis: { type: 'value', name: `${ox.id} (${ox.max ? 'max' : 'min'})`, scale: true, nameLocation: 'middle', nameGap: 28, axisLabel: { formatter: num } },
    yAxis: { type: 'value', name: `${oy.id} (${oy.max ? 'max' : 'min'})`, scale: true, axisLabel: { formatter: num } },
    series: [
      { name: 'trials', type: 'scatter', data: good.filter((t) => !onFront.has(t.id)).map(pt), color: GREY, symbolSize: 5 },
      { name: 'Pareto front', type: 'line', data: front.map(pt), color: '#1a73e8', symbolSize: 8, step: false },
      { name: 'infeasible', type: 'scatter', data: bad.map(pt), color: INFEASIBLE, symbol: 'emptyTriangle', symbolSize: 7 },
    ],
  }, { points: good.length, front: front.length, infeasible: bad.length, series: 3 });
}

// One line per trial; early-stopped trials dashed and red, ending in a cross.
export function curves(el, list, early, metricId) {
  const series = list.filter((c) => c.points.length).map((c) => {
    const stopped = early.has(c.id);
    return {
      name: `trial ${c.id}${stopped ? ' (stopped early)' : ''}`, type: 'line', data: c.points,
      showSymbol: false, lineStyle: { width: 1, type: stopped ? 'dashed' : 'solid' },
      color: stopped ? INFEASIBLE : undefined,
      markPoint: stopped ? { symbol: 'pin', symbolSize: 18, data: [{ coord: c.points.at(-1), value: 'x' }] } : undefined,
    };
  });
  draw(el, {
    tooltip: { trigger: 'item', confine: true },
    grid: { left: 64, right: 24, top: 16, bottom: 48 },
    xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 28, scale: true },
    yAxis: { type: 'value', name: metricId, scale: true, axisLabel: { formatter: num } },
    series,
  }, { series: series.length, early: series.filter((s) => s.lineStyle.type === 'dashed').length });
}
