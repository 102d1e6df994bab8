// A study's page: its charts and its trial table, kept up to date while
// workers run (trialset.js: every REFRESH_MS the page asks only for what
// can have changed).
import { enc, getJson, listAll } from './api.js';
import { add, clear, fill, h, note, num } from './dom.js';
import { best, curveOf, earlyStopped, flatParams, metricsOf, objectives, STATES } from './model.js';
import { TrialSet } from './trialset.js';
import { trialTable } from './trials.js';

// charts.js (and the chart library under it) is imported when a study
// is opened, so that its evaluation overlaps the study's first requests.
let charts = null;

const REFRESH_MS = 5000;
const CURVES_AUTO = 1000; // load learning curves without asking up to this many trials

function select(label, options, value, onChange) {
  const id = `sel-${label.replace(/\W+/g, '-')}`;
  const s = h(`select#${id}`, { on: { change: () => onChange(s.value) } },
    options.map((o) => h('option', { value: o, selected: o === value }, o)));
  return h('span.field', h('label', { for: id }, label), s);
}

function section(id, title, ...body) {
  return h(`section.card#${id}`, { 'aria-labelledby': `${id}-h` }, h('h2', { id: `${id}-h` }, title), ...body);
}

function chartBox(id, label, cls = '') {
  return h(`div.chart${cls}#${id}`, { role: 'img', 'aria-label': label, tabindex: 0 });
}

// Charts are drawn when they are on screen (or near it): a chart whose
// data changed while off screen is marked dirty (data-dirty) and drawn
// when it is scrolled to, so that a large study's page is usable at once.
class Lazy {
  constructor() {
    this.jobs = new Map();
    this.io = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const j = this.jobs.get(e.target);
        if (!j) continue;
        j.visible = e.isIntersecting;
        if (j.visible && j.dirty) this.run(e.target, j);
      }
    }, { rootMargin: '100px' });
  }

  set(el, fn) {
    let j = this.jobs.get(el);
    if (!j) {
      const r = el.getBoundingClientRect();
      j = { visible: r.bottom > -100 && r.top < window.innerHeight + 100 };
      this.jobs.set(el, j);
      this.io.observe(el);
    }
    j.fn = fn;
    j.dirty = true;
    el.dataset.dirty = '1';
    if (j.visible) this.run(el, j);
  }

  run(el, j) {
    j.dirty = false;
    delete el.dataset.dirty;
    j.fn();
  }

  close() { this.io.disconnect(); }
}

class StudyPage {
  constructor(ctx, studyId, study) {
    this.ctx = ctx;
    this.id = studyId;
    this.base = `/v1/owners/${enc(ctx.owner)}/studies/${enc(studyId)}`;
    this.study = study;
    this.params = flatParams(study.studySpec);
    this.metrics = metricsOf(study.studySpec);
    this.objs = objectives(this.metrics);
    this.set = new TrialSet(this.base, this.params, this.metrics);
    this.sel = {
      obj: this.objs[0] || this.metrics[0],
      cx: this.params[0], cy: this.params[1] || this.params[0],
      px: this.objs[0], py: this.objs[1],
      impMetric: (this.objs[0] || this.metrics[0]).id,
    };
    this.curvesLoaded = false;
    this.importanceFor = -1;
    this.lazy = new Lazy();
  }

  get trials() { return this.set.trials; }

  list() { return this.set.list(); }

  load() { return this.set.load(); }

  refresh() { return this.set.refresh(); }

  render() {
    const { main } = this.ctx;
    const s = this.study;
    this.meta = h('p.meta#study-meta');
    main.append(h('h1', s.displayName || this.id), this.meta);
    const objNames = this.objs.map((o) => o.id);
    const pick = (k, list) => (v) => { this.sel[k] = list.find((x) => x.id === v); this.draw(); };
    this.box = {
      history: chartBox('chart-history', 'optimization history'),
      importance: chartBox('chart-importance', 'parameter importance', '.short'),
      parallel: chartBox('chart-parallel', 'parallel coordinates'),
      slices: h('div.slices#slices'),
      contour: chartBox('chart-contour', 'contour of two parameters'),
      pareto: chartBox('chart-pareto', 'Pareto front'),
      curves: chartBox('chart-curves', 'learning curves'),
      impNote: h('div'), curvesNote: h('div#curves-note'),
    };
    const pnames = this.params.map((p) => p.id);
    const metricIds = this.metrics.map((m) => m.id);
    main.append(h('nav.sections', { 'aria-label': 'sections' },
      ['history', 'importance', 'parallel', 'slice', 'contour', ...(this.objs.length > 1 ? ['pareto'] : []), 'curves', 'trials']
        .map((x) => h('button.link', { type: 'button', on: { click: () => document.getElementById(`sec-${x}`).scrollIntoView() } }, x))));
    add(main,
      section('sec-history', 'Optimization history',
        objNames.length > 1 ? select('objective', objNames, this.sel.obj.id, pick('obj', this.objs)) : null, this.box.history),
      section('sec-importance', 'Parameter importance',
        metricIds.length > 1 ? select('metric', metricIds, this.sel.impMetric, (v) => { this.sel.impMetric = v; this.importanceFor = -1; this.drawImportance(); }) : null,
        this.box.impNote, this.box.importance),
      section('sec-parallel', 'Parallel coordinates', h('p.hint', 'Drag along an axis to select a range; click the axis outside it to clear.'), this.box.parallel),
      section('sec-slice', 'Slice plots', this.box.slices),
      section('sec-contour', 'Contour',
        select('x', pnames, this.sel.cx.id, pick('cx', this.params)), select('y', pnames, this.sel.cy.id, pick('cy', this.params)),
        h('p.hint', 'Each cell: the best value of the trials in it.'), this.box.contour),
      this.objs.length > 1 ? section('sec-pareto', 'Pareto front',
        select('x objective', objNames, this.sel.px.id, pick('px', this.objs)),
        select('y objective', objNames, this.sel.py.id, pick('py', this.objs)), this.box.pareto) : null,
      section('sec-curves', 'Learning curves', this.box.curvesNote, this.box.curves),
      section('sec-trials', 'Trials', this.table = h('div#trial-table')),
    );
    this.tableView = trialTable(this.table, this);
  }

  drawMeta() {
    const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
    for (const t of this.trials.values()) counts[t.state]++;
    const o = this.objs[0];
    const b = o ? best(this.list(), this.metrics, o) : null;
    fill(this.meta,
      h(`span.state.${this.study.state.toLowerCase()}`, this.study.state), ' · ',
      (this.study.studySpec.algorithm || 'default (GP-EI)').replace('ALGORITHM_UNSPECIFIED', 'default (GP-EI)'), ' · ',
      `${this.trials.size} trials`, ' ',
      STATES.filter((s) => counts[s]).map((s) => h(`span.badge.${s.toLowerCase()}`, `${counts[s]} ${s.toLowerCase()}`)),
      b ? [' · best ', h('a', { href: `#/o/${enc(this.ctx.owner)}/s/${enc(this.id)}/t/${b.id}` }, `${num(b.m[o.id])} (trial ${b.id})`)] : '');
  }

  draw() {
    const list = this.list();
    const o = this.sel.obj;
    const mark = (n) => performance.mark(`sibyl:${n}`);
    this.drawMeta();
    mark('meta');
    const lazy = (el, fn, name) => this.lazy.set(el, () => { fn(); mark(name); });
    lazy(this.box.history, () => charts.history(this.box.history, list, this.metrics, o,
      (id) => { location.hash = `#/o/${enc(this.ctx.owner)}/s/${enc(this.id)}/t/${id}`; }), 'history');
    lazy(this.box.parallel, () => charts.parallel(this.box.parallel, list, this.params, this.metrics, o), 'parallel');
    if (this.box.slices.children.length !== this.params.length) {
      fill(this.box.slices, this.params.map((p) => chartBox(`chart-slice-${p.id}`, `slice plot of ${p.id}`, '.small')));
    }
    this.params.forEach((p, i) => {
      const el = this.box.slices.children[i];
      lazy(el, () => charts.slice(el, list, p, this.metrics, o), `slice-${p.id}`);
    });
    lazy(this.box.contour, () => charts.contour(this.box.contour, list, this.sel.cx, this.sel.cy, this.metrics, o), 'contour');
    if (this.objs.length > 1) lazy(this.box.pareto, () => charts.pareto(this.box.pareto, list, this.metrics, this.sel.px, this.sel.py), 'pareto');
    this.tableView.update();
    mark('table');
    this.drawImportance();
    this.drawCurves();
  }

  async drawImportance() {
    const done = this.list().filter((t) => t.state === 'SUCCEEDED').length;
    if (done === this.importanceFor) return;
    this.importanceFor = done;
    if (done < 2) { // what the API would refuse (FAILED_PRECONDITION)
      fill(this.box.impNote, note('info', `Importance needs at least 2 SUCCEEDED trials; the study has ${done}.`));
      this.box.importance.hidden = true;
      return;
    }
    try {
      const imp = await getJson(`${this.base}:importance?metricId=${enc(this.sel.impMetric)}`);
      fill(this.box.impNote, h('p.hint', `${imp.method} over ${imp.trialCount} trials, metric ${imp.metricId}.`));
      this.box.importance.hidden = false;
      this.lazy.set(this.box.importance, () => charts.importance(this.box.importance, imp));
    } catch (e) {
      fill(this.box.impNote, note('info', e.message));
      this.box.importance.hidden = true;
    }
  }

  async loadCurves() {
    const all = await listAll(`${this.base}/trials`, 'trials', 1000);
    for (const t of all) {
      const x = this.trials.get(Number(t.id));
      if (x) x.measurements = t.measurements || [];
    }
    this.curvesLoaded = true;
  }

  drawCurves() {
    const n = this.trials.size;
    if (!this.curvesLoaded) {
      if (n <= CURVES_AUTO) {
        this.curvesLoaded = 'loading';
        this.loadCurves().then(() => this.drawCurves(), (e) => fill(this.box.curvesNote, note('error', e.message)));
      } else if (!this.box.curvesNote.firstChild) {
        this.box.curvesNote.append(h('button#load-curves', { type: 'button', on: { click: () => {
          clear(this.box.curvesNote);
          this.curvesLoaded = 'loading';
          this.loadCurves().then(() => this.drawCurves());
        } } }, `Load the measurements of ${n} trials`));
      }
      return;
    }
    if (this.curvesLoaded === 'loading') return;
    const m = this.sel.obj.id;
    const list = this.list().map((t) => ({ id: t.id, state: t.state, points: curveOf(t, m) }));
    const early = earlyStopped(list);
    const with_ = list.filter((c) => c.points.length);
    fill(this.box.curvesNote, h('p.hint', with_.length
      ? `${with_.length} trials with measurements of ${m}; ${[...early].length} stopped early (dashed, red): stopped, or fewer steps than the longest curve.`
      : `No trial has measurements of ${m}.`));
    this.box.curves.hidden = !with_.length;
    if (with_.length) this.lazy.set(this.box.curves, () => charts.curves(this.box.curves, list, early, m));
  }
}

export async function studyView(ctx, studyId) {
  const chartsLoaded = import('./charts.js');
  const study = await getJson(`/v1/owners/${enc(ctx.owner)}/studies/${enc(studyId)}`);
  const page = new StudyPage(ctx, studyId, study);
  performance.mark('sibyl:study');
  await page.load();
  performance.mark('sibyl:loaded');
  charts = await chartsLoaded;
  page.render();
  page.draw();
  performance.mark('sibyl:drawn');
  document.body.dataset.ready = 'study';
  window.sibylReadyAt = performance.now(); // for bench/dashboard.mjs
  let stopped = false, timer = null;
  const tick = async () => {
    if (stopped) return;
    // (tests and the bench set sibylAutoRefresh = false to refresh by hand)
    if (!document.hidden && window.sibylAutoRefresh !== false) {
      try {
        if (await page.refresh()) page.draw();
      } catch (e) {
        console.warn(`refresh: ${e.message}`);
      }
    }
    if (!stopped) timer = setTimeout(tick, REFRESH_MS);
  };
  timer = setTimeout(tick, REFRESH_MS);
  window.sibylRefresh = () => page.refresh().then((c) => { if (c) page.draw(); return c; });
  return () => {
    stopped = true;
    clearTimeout(timer);
    delete document.body.dataset.ready;
    page.lazy.close();
    charts.disposeIn(ctx.main);
  };
}
