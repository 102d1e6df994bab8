// Bench of the dashboard (docs/benchmarks.md, section "Dashboard"): a study
// of N trials (default 10,000) in a real sibyld, opened in headless
// chromium. Prints the time until the study page is drawn (navigation
// start to every chart drawn), the bytes of a first load with an empty
// cache, the bytes and the daemon's CPU time of a refresh with nothing new,
// and the server time of :importance and of the CSV export. A bench, not
// a test: it prints figures and asserts nothing about time.
//
//   SIBYLD=build-release/server/sibyld node bench/dashboard.mjs [--trials N] [--runs R]
//
// It uses the npm packages of tests/browser (npm ci there first).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const lib = await import(join(here, '../tests/browser/lib.mjs'));

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('trials', 10000), RUNS = arg('runs', 3), REFRESHES = 50;

const SPEC = {
  algorithm: 'RANDOM_SEARCH',
  metrics: [{ metricId: 'acc', goal: 'MAXIMIZE' }],
  parameters: [
    { parameterId: 'lr', doubleValueSpec: { minValue: 1e-5, maxValue: 0.1 }, scaleType: 'UNIT_LOG_SCALE' },
    { parameterId: 'layers', integerValueSpec: { minValue: 1, maxValue: 8 } },
    { parameterId: 'opt', categoricalValueSpec: { values: ['adam', 'sgd', 'rmsprop'] } },
    { parameterId: 'dropout', doubleValueSpec: { minValue: 0, maxValue: 0.5 } },
    { parameterId: 'wd', doubleValueSpec: { minValue: 1e-6, maxValue: 1e-2 }, scaleType: 'UNIT_LOG_SCALE' },
  ],
};

async function seed(api, n) {
  await api.post('/v1/owners', { ownerId: 'b' });
  await api.post('/v1/owners/b/studies', { displayName: 'big', studySpec: SPEC });
  let next = 0;
  const one = async () => {
    while (next < n) {
      next++;
      const lr = Math.exp(Math.log(1e-5) + Math.random() * Math.log(1e4));
      const acc = 0.9 - 0.05 * (Math.log10(lr) + 3) ** 2 + 0.02 * Math.random();
      const measurements = [1, 2, 3, 4, 5].map((s) => ({ stepCount: String(s), metrics: [{ metricId: 'acc', value: acc * s / 5 }] }));
      await api.post('/v1/owners/b/studies/big/trials', {
        state: 'SUCCEEDED',
        parameters: [
          { parameterId: 'lr', value: lr }, { parameterId: 'layers', value: 1 + Math.floor(Math.random() * 8) },
          { parameterId: 'opt', value: ['adam', 'sgd', 'rmsprop'][Math.floor(Math.random() * 3)] },
          { parameterId: 'dropout', value: Math.random() * 0.5 },
          { parameterId: 'wd', value: Math.exp(Math.log(1e-6) + Math.random() * Math.log(1e4)) },
        ],
        measurements, finalMeasurement: measurements.at(-1),
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, one));
}

function cpuMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, USER_HZ = 100
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function openCold(browser, url, key) {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  await page.evaluateOnNewDocument((k) => {
    sessionStorage.setItem('sibyl.key', k);
    sessionStorage.setItem('sibyl.owner', 'b');
    sessionStorage.setItem('sibyl.role', 'WRITER');
  }, key);
  const cdp = await page.createCDPSession();
  await cdp.send('Network.enable');
  const seen = new Map(); // requestId -> bytes on the wire (headers and body)
  cdp.on('Network.responseReceived', (e) => { seen.set(e.requestId, e.response.encodedDataLength || 0); });
  cdp.on('Network.loadingFinished', (e) => {
    seen.set(e.requestId, Math.max(seen.get(e.requestId) || 0, e.encodedDataLength || 0));
  });
  const bytes = () => [...seen.values()].reduce((a, x) => a + x, 0);
  await page.goto(`${url}/ui/#/o/b/s/big`);
  await page.waitForFunction(() => document.body.dataset.ready === 'study', { timeout: 120000 });
  await new Promise((r) => setTimeout(r, 300));
  const ready = await page.evaluate(() => window.sibylReadyAt);
  const marks = await page.evaluate(() => performance.getEntriesByType('mark')
    .filter((m) => m.name.startsWith('sibyl:')).map((m) => `${m.name.slice(6)} ${Math.round(m.startTime)}`));
  console.log(`marks (ms since navigation): ${marks.join(', ')}`);
  return { ctx, page, cdp, ready, bytes, responses: () => seen.size, reset: () => seen.clear() };
}

async function timed(fn, n) {
  const t = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

async function main() {
  const d = await lib.startDaemon();
  const admin = lib.client(d.url);
  let b;
  try {
    const t0 = performance.now();
    await seed(admin, N);
    const key = await lib.makeKey(admin, 'b', 'WRITER');
    console.log(`seeded ${N} trials in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const api = lib.client(d.url, key);
    let c0 = cpuMs(d.proc.pid);
    const impMs = await timed(() => api.get('/v1/owners/b/studies/big:importance'), 10);
    const impCpu = (cpuMs(d.proc.pid) - c0) / 10;
    c0 = cpuMs(d.proc.pid);
    const csvMs = await timed(() => fetch(`${d.url}/v1/owners/b/studies/big/trials?alt=csv`, { headers: { Authorization: `Bearer ${key}` } }).then((r) => r.text()), 10);
    const csvCpu = (cpuMs(d.proc.pid) - c0) / 10;
    const csvBytes = (await (await fetch(`${d.url}/v1/owners/b/studies/big/trials?alt=csv`, { headers: { Authorization: `Bearer ${key}` } })).text()).length;
    b = await lib.launch();
    const readies = [], firstBytes = [];
    let last = null;
    for (let i = 0; i < RUNS; i++) {
      if (last) await last.ctx.close();
      last = await openCold(b.browser, d.url, key);
      readies.push(last.ready);
      firstBytes.push(last.bytes());
    }
    // Refreshes with nothing new, once the page's :importance call (made
    // after the charts) has been answered, so that its CPU is not counted.
    await last.page.waitForFunction(() => document.querySelector('#sec-importance .hint, #sec-importance .note'), { timeout: 120000 });
    await new Promise((r) => setTimeout(r, 500));
    await last.page.evaluate(() => { window.sibylAutoRefresh = false; });
    last.reset();
    const cpu0 = cpuMs(d.proc.pid);
    for (let i = 0; i < REFRESHES; i++) {
      const changed = await last.page.evaluate(() => window.sibylRefresh());
      if (changed) throw new Error('a refresh saw a change in an idle study');
    }
    await new Promise((r) => setTimeout(r, 300));
    const cpu = (cpuMs(d.proc.pid) - cpu0) / REFRESHES;
    const refreshBytes = last.bytes() / REFRESHES;
    console.log(`refresh: ${last.responses()} responses, ${last.bytes()} bytes`);
    await last.ctx.close();
    console.log(JSON.stringify({
      trials: N,
      ready_ms_median: Math.round(median(readies)), ready_ms_all: readies.map(Math.round),
      first_load_bytes: median(firstBytes),
      refresh_idle_bytes: Math.round(refreshBytes), refresh_idle_daemon_cpu_ms: Number(cpu.toFixed(2)),
      importance_ms_median: Math.round(impMs), importance_daemon_cpu_ms: impCpu,
      csv_ms_median: Math.round(csvMs), csv_daemon_cpu_ms: csvCpu, csv_bytes: csvBytes,
      load_average: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    }, null, 1));
  } finally {
    if (b) await b.close();
    await d.stop();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
