// The trial table of a study page (sort, filter by state, pages of 100
// over every trial the page holds) and a trial's own page.
import { del, enc, getJson, post } from './api.js';
import { add, clear, duration, fill, h, note, num, when } from './dom.js';
import { flatParams, metricsOf, STATES } from './model.js';

const PAGE = 100;

export function trialTable(root, page) {
  const st = { state: '', key: 'id', dir: 1, page: 0 };
  const link = (id) => `#/o/${enc(page.ctx.owner)}/s/${enc(page.id)}/t/${id}`;
  const cols = [
    { id: 'id', label: 'trial', get: (t) => t.id, show: (t) => h('a', { href: link(t.id) }, String(t.id)) },
    { id: 'state', label: 'state', get: (t) => t.state, show: (t) => h(`span.state.${t.state.toLowerCase()}`, t.state) },
    ...page.params.map((p) => ({ id: `p:${p.id}`, label: p.id, num: p.kind !== 'categorical', get: (t) => t.p[p.id], show: (t) => num(t.p[p.id]) })),
    ...page.metrics.map((m) => ({ id: `m:${m.id}`, label: m.id, num: true, get: (t) => t.m[m.id], show: (t) => num(t.m[m.id]) })),
    { id: 'end', label: 'ended', get: (t) => t.end, show: (t) => when(t.end) },
    { id: 'dur', label: 'duration', get: (t) => (t.start && t.end ? Date.parse(t.end) - Date.parse(t.start) : undefined), show: (t) => duration(t.start, t.end) },
  ];
  const stateSel = h('select#state-filter', { on: { change: () => { st.state = stateSel.value; st.page = 0; update(); } } },
    h('option', { value: '' }, 'all states'), STATES.map((s) => h('option', { value: s }, s)));
  const info = h('span.pageinfo#page-info', { 'aria-live': 'polite' });
  const prev = h('button#page-prev', { type: 'button', on: { click: () => { st.page--; update(); } } }, '← Previous');
  const next = h('button#page-next', { type: 'button', on: { click: () => { st.page++; update(); } } }, 'Next →');
  const head = h('tr');
  const body = h('tbody');
  root.append(h('div.toolbar', h('label', { for: 'state-filter' }, 'State'), stateSel, prev, info, next),
    h('div.scroll', h('table.grid#trials', h('thead', head), body)));

  function sortBy(c) {
    if (st.key === c.id) st.dir = -st.dir;
    else { st.key = c.id; st.dir = 1; }
    st.page = 0;
    update();
  }

  function rows() {
    const c = cols.find((x) => x.id === st.key);
    const list = page.list().filter((t) => !st.state || t.state === st.state);
    return list.sort((a, b) => {
      const x = c.get(a), y = c.get(b);
      if (x === y) return a.id - b.id;
      if (x === undefined || x === '') return 1; // absent last either way
      if (y === undefined || y === '') return -1;
      return (x < y ? -1 : 1) * st.dir;
    });
  }

  function update() {
    fill(head, cols.map((c) => h('th', {
      scope: 'col', 'aria-sort': st.key === c.id ? (st.dir > 0 ? 'ascending' : 'descending') : 'none',
    }, h('button.sort', { type: 'button', on: { click: () => sortBy(c) } },
      c.label, st.key === c.id ? (st.dir > 0 ? ' ▲' : ' ▼') : ''))));
    const all = rows();
    const pages = Math.max(1, Math.ceil(all.length / PAGE));
    st.page = Math.min(Math.max(0, st.page), pages - 1);
    const shown = all.slice(st.page * PAGE, (st.page + 1) * PAGE);
    fill(body, shown.map((t) => h('tr', { dataset: { trial: t.id } },
      cols.map((c) => h(c.num ? 'td.num' : 'td', c.show(t))))));
    info.textContent = all.length ? `${st.page * PAGE + 1}–${st.page * PAGE + shown.length} of ${all.length}` : 'no trials';
    prev.disabled = st.page === 0;
    next.disabled = st.page >= pages - 1;
  }
  return { update };
}

function kv(rows) {
  return h('table.kv', h('tbody', rows.filter(Boolean).map(([k, v]) => h('tr', h('th', { scope: 'row' }, k), h('td', v)))));
}

function measurementsTable(ms, metrics) {
  if (!ms || !ms.length) return h('p.hint', 'No intermediate measurements.');
  return h('div.scroll', h('table.grid#measurements',
    h('thead', h('tr', ['#', 'step', 'elapsed', ...metrics.map((m) => m.id)].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', ms.map((m, i) => h('tr', h('td', String(i + 1)), h('td.num', m.stepCount || ''), h('td.num', m.elapsedDuration || ''),
      metrics.map((x) => {
        const v = (m.metrics || []).find((y) => y.metricId === x.id);
        return h('td.num', v ? num(Number(v.value)) : '');
      }))))));
}

// suggestionInfo's prediction beside what was measured.
function prediction(t, metrics) {
  const si = t.suggestionInfo;
  if (!si) return h('p.hint', 'This trial was not suggested by a model (created by hand, or by an algorithm that predicts nothing).');
  const obj = metrics.find((m) => m.safety === null) || metrics[0];
  const final = ((t.finalMeasurement && t.finalMeasurement.metrics) || []).find((m) => m.metricId === obj.id);
  const sd = Number(si.predictedStddev);
  return kv([
    ['algorithm', si.algorithm || ''],
    si.predictedValue !== undefined && ['predicted', `${num(Number(si.predictedValue))} ± ${num(sd)} (1 sd)`],
    ['measured', final ? num(Number(final.value)) : 'not yet'],
    final && si.predictedValue !== undefined && sd > 0 && ['measured − predicted', `${num((Number(final.value) - Number(si.predictedValue)) / sd)} sd`],
    si.logExpectedImprovement !== undefined && ['log expected improvement', num(Number(si.logExpectedImprovement))],
  ]);
}

function actions(ctx, t, base) {
  if (!ctx.canWrite) return null;
  const msg = h('div', { 'aria-live': 'polite' });
  const act = (label, fn) => h('button.write', { type: 'button', on: { click: async () => {
    if (!window.confirm(`${label} trial ${t.id}?`)) return;
    try {
      await fn();
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (e) {
      fill(msg, note('error', e.message));
    }
  } } }, label);
  return h('div.actions', ['ACTIVE'].includes(t.state) ? act('Stop', () => post(`${base}:stop`)) : null,
    act('Delete', () => del(base)), msg);
}

export async function trialView(ctx, studyId, trialId) {
  const sbase = `/v1/owners/${enc(ctx.owner)}/studies/${enc(studyId)}`;
  const [study, t] = await Promise.all([getJson(sbase), getJson(`${sbase}/trials/${enc(trialId)}`)]);
  const metrics = metricsOf(study.studySpec);
  const params = flatParams(study.studySpec);
  const pv = Object.fromEntries((t.parameters || []).map((p) => [p.parameterId, p.value]));
  add(ctx.main,
    h('p.crumbs', h('a', { href: `#/o/${enc(ctx.owner)}/s/${enc(studyId)}` }, `← ${study.displayName || studyId}`)),
    h('h1', `Trial ${t.id}`),
    actions(ctx, t, `${sbase}/trials/${enc(trialId)}`),
    h('section.card#trial-summary', h('h2', 'Summary'), kv([
      ['state', h(`span.state.${t.state.toLowerCase()}`, t.state)],
      ['client', t.clientId || ''], ['started', when(t.startTime)], ['ended', when(t.endTime)],
      ['duration', duration(t.startTime, t.endTime)],
      t.infeasibleReason && ['infeasible because', t.infeasibleReason],
    ])),
    h('section.card#trial-params', h('h2', 'Parameters'),
      kv(params.filter((p) => pv[p.id] !== undefined).map((p) => [p.id + (p.log ? ' (log scale)' : ''), num(pv[p.id])]))),
    h('section.card#trial-prediction', h('h2', 'Predicted and measured'), prediction(t, metrics)),
    h('section.card#trial-final', h('h2', 'Final measurement'),
      t.finalMeasurement ? kv((t.finalMeasurement.metrics || []).map((m) => [m.metricId, num(Number(m.value))])) : h('p.hint', 'None yet.')),
    h('section.card#trial-measurements', h('h2', 'Measurements'), measurementsTable(t.measurements, metrics)),
  );
  document.body.dataset.ready = 'trial';
  return () => { delete document.body.dataset.ready; };
}
