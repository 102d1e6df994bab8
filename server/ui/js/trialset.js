// A study's trials, kept up to date cheaply. They come once as CSV; then
// each refresh asks only for what can have changed, each with
// If-None-Match (304 when nothing did): the trials after the last one it
// has (filter id>N), and the unfinished ones; a trial that left the
// unfinished set is read again alone.
import { enc, get, getCsv, getJson } from './api.js';
import { fromCsv, UNFINISHED } from './model.js';

// The Trial resource -> the model's trial.
function fromJson(t, params, metrics) {
  const p = {}, m = {};
  for (const x of t.parameters || []) if (params.some((q) => q.id === x.parameterId)) p[x.parameterId] = x.value;
  for (const x of (t.finalMeasurement && t.finalMeasurement.metrics) || []) {
    if (metrics.some((q) => q.id === x.metricId)) m[x.metricId] = Number(x.value);
  }
  return { id: Number(t.id), state: t.state, p, m, start: t.startTime || '', end: t.endTime || '',
    clientId: t.clientId || '', measurements: t.measurements };
}

const finished = (t) => t.state === 'SUCCEEDED' || t.state === 'INFEASIBLE';

export class TrialSet {
  constructor(base, params, metrics) {
    this.base = base; // /v1/owners/O/studies/S
    this.params = params;
    this.metrics = metrics;
    this.trials = new Map();
    this.etags = {};
    this.unfinished = new Set();
  }

  list() { return [...this.trials.values()].sort((a, b) => a.id - b.id); }

  maxId() {
    let m = 0;
    for (const id of this.trials.keys()) m = Math.max(m, id);
    return m;
  }

  async load() {
    const got = await getCsv(`${this.base}/trials?alt=csv`);
    performance.mark('sibyl:csv');
    for (const t of fromCsv(got.rows, this.params, this.metrics)) this.trials.set(t.id, t);
    performance.mark('sibyl:parsed');
    this.unfinished = new Set(this.list().filter((t) => !finished(t)).map((t) => t.id));
    // Ask once now, so that the next look has the ETags to send.
    await this.refresh();
  }

  // What changed since the last look; true when something did.
  async refresh() {
    let changed = false;
    const after = this.maxId();
    const key = `new>${after}`;
    const [got, un] = await Promise.all([
      getCsv(`${this.base}/trials?alt=csv&filter=${enc(`id>${after}`)}`, this.etags[key]),
      get(`${this.base}/trials?pageSize=1000&filter=${enc(UNFINISHED)}`, { etag: this.etags.unfinished }),
    ]);
    if (!got.notModified) {
      this.etags = { [key]: got.etag, unfinished: this.etags.unfinished };
      for (const t of fromCsv(got.rows, this.params, this.metrics)) {
        this.trials.set(t.id, t);
        changed = true;
      }
    }
    if (!un.notModified) {
      this.etags.unfinished = un.etag;
      const now = new Set();
      for (const t of un.data.trials || []) {
        now.add(Number(t.id));
        this.trials.set(Number(t.id), fromJson(t, this.params, this.metrics));
        changed = true;
      }
      for (const id of this.unfinished) {
        if (now.has(id)) continue;
        const t = await getJson(`${this.base}/trials/${id}`).catch(() => null);
        if (t) this.trials.set(id, fromJson(t, this.params, this.metrics));
        else this.trials.delete(id);
        changed = true;
      }
      this.unfinished = now;
    }
    return changed;
  }
}
