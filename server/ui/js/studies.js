// The owner's studies: state, trials by state, best value, last activity
// and algorithm, from each study's trials (trialset.js: read once, then
// only what changed).
import { enc, listAll } from './api.js';
import { ago, fill, h, note, num } from './dom.js';
import { best, flatParams, metricsOf, objectives, STATES } from './model.js';
import { TrialSet } from './trialset.js';

const REFRESH_MS = 10000;

function summary(set) {
  const metrics = set.metrics;
  const trials = set.list();
  const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
  let last = 0;
  for (const t of trials) {
    counts[t.state]++;
    for (const x of [t.start, t.end]) if (x) last = Math.max(last, Date.parse(x));
  }
  const obj = objectives(metrics)[0];
  const b = obj ? best(trials, metrics, obj) : null;
  return { counts, total: trials.length, last, obj, best: b ? b.m[obj.id] : null, bestId: b && b.id };
}

function countsCell(s) {
  const parts = STATES.filter((st) => s.counts[st]).map((st) =>
    h(`span.badge.${st.toLowerCase()}`, { title: st }, `${s.counts[st]} ${st.toLowerCase()}`));
  return parts.length ? parts : 'no trials';
}

export async function studiesView(ctx) {
  const { owner, main } = ctx;
  const title = h('h1', `Studies of ${owner}`);
  const body = h('tbody');
  main.append(title);
  const studies = await listAll(`/v1/owners/${enc(owner)}/studies`, 'studies');
  if (!studies.length) {
    main.append(note('info', 'This owner has no studies yet.'));
    return null;
  }
  const table = h('table.grid#studies', h('caption.sr', 'Studies'),
    h('thead', h('tr', ['study', 'state', 'trials by state', 'best value', 'last activity', 'algorithm']
      .map((c) => h('th', { scope: 'col' }, c)))), body);
  main.append(h('div.scroll', table));
  const rows = studies.map((s) => {
    const id = s.name.split('/').pop();
    const cells = { trials: h('td', '…'), best: h('td.num', ''), last: h('td', '') };
    const tr = h('tr', { dataset: { study: id } },
      h('td', h('a', { href: `#/o/${enc(owner)}/s/${enc(id)}` }, s.displayName || id)),
      h('td', h(`span.state.${s.state.toLowerCase()}`, s.state)),
      cells.trials, cells.best, cells.last,
      h('td', (s.studySpec.algorithm || 'ALGORITHM_UNSPECIFIED').replace('ALGORITHM_UNSPECIFIED', 'default (GP-EI)')));
    body.append(tr);
    const spec = s.studySpec;
    const set = new TrialSet(`/v1/owners/${enc(owner)}/studies/${enc(id)}`, flatParams(spec), metricsOf(spec));
    return { s, id, cells, set, loaded: false };
  });
  let stopped = false, timer = null;
  const poll = async () => {
    for (const r of rows) {
      if (stopped) return;
      try {
        if (!r.loaded) {
          await r.set.load();
          r.loaded = true;
        } else if (!(await r.set.refresh())) {
          r.cells.last.textContent = ago(r.last);
          continue;
        }
        const sm = summary(r.set);
        r.last = sm.last;
        fill(r.cells.trials, countsCell(sm));
        r.cells.best.textContent = sm.best === null ? '' : `${num(sm.best)} (${sm.obj.max ? 'max' : 'min'} ${sm.obj.id}, trial ${sm.bestId})`;
        r.cells.last.textContent = ago(sm.last);
        r.cells.last.title = sm.last ? new Date(sm.last).toISOString() : '';
      } catch (e) {
        r.cells.trials.textContent = `error: ${e.message}`;
      }
    }
    if (!stopped) timer = setTimeout(poll, REFRESH_MS);
  };
  await poll();
  return () => { stopped = true; clearTimeout(timer); };
}
