// The dashboard in a real browser (Debian's chromium, headless, through
// puppeteer-core) against the real sibyld with seeded studies: every view
// loads with no console error, each chart has the expected points or
// series, a wrong key is told so, a READER sees no write action, another
// owner's study is not found, the page refreshes what changed and a
// refresh with nothing new gets 304s. Screenshots go to SIBYL_BROWSER_OUT.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { client, launch, makeKey, newPage, signIn, startDaemon } from './lib.mjs';
import { seedEmpty, seedOne, seedOther, seedTwo } from './seed.mjs';

const OUT = process.env.SIBYL_BROWSER_OUT || join(process.cwd(), 'browser-out');
mkdirSync(OUT, { recursive: true });
let checks = 0;

function check(cond, what) {
  checks++;
  assert.ok(cond, what);
}

async function shot(page, name) {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
}

// One screen with sel at its top, small enough for docs/img/.
async function docShot(page, name, sel) {
  if (sel) await page.$eval(sel, (e) => e.scrollIntoView());
  await page.screenshot({ path: join(OUT, `doc-${name}.jpg`), type: 'jpeg', quality: 80 });
}

// Console errors other than the failed loads a step expects (the browser
// logs every 4xx answer of fetch as one).
function noErrors(page, step, allowed = []) {
  const bad = page.errors.filter((e) => !allowed.some((a) => e.includes(`status of ${a}`)));
  check(bad.length === 0, `${step}: console errors: ${bad.join(' | ')}`);
  page.errors.length = 0;
}

// A chart's figures, once it is drawn and up to date (charts are drawn
// when scrolled to).
async function data(page, sel) {
  await page.$eval(sel, (el) => el.scrollIntoView());
  await page.waitForFunction((s) => {
    const e = document.querySelector(s);
    return e.dataset.drawn === '1' && !e.dataset.dirty;
  }, {}, sel);
  return page.$eval(sel, (el) => ({ ...el.dataset, canvas: !!el.querySelector('canvas') }));
}

async function wrongKey(browser, base) {
  const page = await newPage(browser);
  await signIn(page, base, 't', 'sk_not_a_key');
  await page.waitForSelector('.note.error');
  const text = await page.$eval('.note.error', (e) => e.textContent);
  check(/refused/.test(text), `wrong key message: ${text}`);
  check(await page.evaluate(() => sessionStorage.getItem('sibyl.key') === null), 'a refused key is not kept');
  await shot(page, 'signin-wrong-key');
  noErrors(page, 'wrong key', [401]);
  await page.close();
}

// Scrolls to every chart so that all are drawn (for full-page shots).
async function drawAll(page) {
  for (const id of await page.$$eval('.chart:not([hidden])', (c) => c.map((e) => e.id))) await data(page, `#${id}`);
  await page.$eval('h1', (e) => e.scrollIntoView());
}

async function studiesList(page, base) {
  await page.waitForSelector('#studies tbody tr');
  await page.waitForFunction(() => !document.querySelector('#studies').textContent.includes('…'));
  const rows = await page.$$eval('#studies tbody tr', (t) => t.map((r) => r.dataset.study));
  check([...rows].sort().join(',') === 'empty,one,two', `studies listed: ${rows}`);
  const empty = await page.$eval('#studies tr[data-study=empty]', (r) => r.textContent);
  check(/no trials/.test(empty), `the empty study: ${empty}`);
  const one = await page.$eval('#studies tr[data-study=one]', (r) => r.textContent);
  check(/41 succeeded/.test(one) && /3 infeasible/.test(one) && /2 active/.test(one), `study one's counts: ${one}`);
  await shot(page, 'studies');
  await docShot(page, 'studies', null);
}

// Goes to a view and waits until it says it is ready; the flag of the
// view before is cleared first (a change of the hash alone resolves goto
// before the old view is gone).
async function go(page, url, ready) {
  await page.evaluate(() => { delete document.body.dataset.ready; }).catch(() => {});
  await page.goto(url);
  await page.waitForFunction((r) => document.body.dataset.ready === r, {}, ready);
}

async function openStudy(page, base, id) {
  await go(page, `${base}/ui/#/o/t/s/${id}`, 'study');
  const h1 = await page.$eval('h1', (e) => e.textContent);
  check(h1 === id, `study page of ${id}: ${h1}`);
}

async function studyOne(page, base, one) {
  await openStudy(page, base, 'one');
  const hist = await data(page, '#chart-history');
  check(hist.canvas && Number(hist.points) === one.feasible && Number(hist.infeasible) === one.infeasible,
    `history ${JSON.stringify(hist)}`);
  const par = await data(page, '#chart-parallel');
  check(Number(par.points) === one.feasible && Number(par.axes) === 5, `parallel ${JSON.stringify(par)}`);
  const slices = [];
  for (const p of ['lr', 'layers', 'opt', 'dropout']) slices.push(Number((await data(page, `#chart-slice-${p}`)).points));
  check(slices.every((n) => n === one.feasible), `slices ${slices}`);
  check((await page.$$('#slices .chart')).length === 4, 'one slice per parameter');
  const con = await data(page, '#chart-contour');
  check(Number(con.points) === one.feasible && Number(con.cells) > 4, `contour ${JSON.stringify(con)}`);
  check((await data(page, '#chart-importance')).points === '4', 'importance of 4 parameters');
  await page.waitForFunction(() => /stopped early/.test(document.querySelector('#curves-note').textContent));
  const cur = await data(page, '#chart-curves');
  check(Number(cur.series) === one.curves && Number(cur.early) === one.early, `curves ${JSON.stringify(cur)}`);
  check(!(await page.$('#sec-pareto')), 'no Pareto front with one objective');
  const logAxis = await page.$eval('#chart-slice-lr', (e) => e.getAttribute('aria-label'));
  check(/lr/.test(logAxis), 'slice of lr');
  await shot(page, 'study-one');
  await docShot(page, 'study-top', 'h1');
  await docShot(page, 'study-parallel', '#sec-parallel');
  await docShot(page, 'study-contour', '#sec-contour');
  // The table: 47 rows on one page, filter, sort by keyboard.
  check((await page.$$('#trials tbody tr')).length === one.total, 'all trials in the table');
  await page.select('#state-filter', 'INFEASIBLE');
  check((await page.$$('#trials tbody tr')).length === one.infeasible, 'state filter');
  await page.select('#state-filter', '');
  await page.focus('#trials thead th:nth-child(3) button');
  await page.keyboard.press('Enter');
  const sorted = await page.$eval('#trials thead th:nth-child(3)', (th) => th.getAttribute('aria-sort'));
  check(sorted === 'ascending', `sorted by lr with the keyboard: ${sorted}`);
  const lrs = await page.$$eval('#trials tbody tr td:nth-child(3)', (t) => t.map((c) => c.textContent).filter(Boolean).map(Number));
  check(lrs.every((v, i) => i === 0 || lrs[i - 1] <= v), 'lr ascending');
  noErrors(page, 'study one');
}

// A study with no trial and a conditional parameter: the page loads, the
// charts are empty, importance says why it has nothing.
async function studyEmpty(page, base) {
  await openStudy(page, base, 'empty');
  const hist = await data(page, '#chart-history');
  check(hist.points === '0' && hist.infeasible === '0', `empty history ${JSON.stringify(hist)}`);
  await page.waitForFunction(() => /at least 2 SUCCEEDED trials/.test(document.querySelector('#sec-importance').textContent));
  check((await page.$$('#slices .chart')).length === 2, 'a slice for the conditional child too');
  check((await page.$eval('#page-info', (e) => e.textContent)) === 'no trials', 'empty table');
  noErrors(page, 'empty study');
}

async function refresh(page, base, api, one) {
  // Nothing new: two conditional requests, both 304, few bytes (the
  // page's own timer is paused, so that only these are counted).
  await page.evaluate(() => { window.sibylAutoRefresh = false; });
  const cdp = await page.createCDPSession();
  await cdp.send('Network.enable');
  const got = [], seen = new Map();
  cdp.on('Network.responseReceived', (e) => {
    got.push(e.response.status);
    seen.set(e.requestId, e.response.encodedDataLength || 0);
  });
  cdp.on('Network.loadingFinished', (e) => {
    seen.set(e.requestId, Math.max(seen.get(e.requestId) || 0, e.encodedDataLength || 0));
  });
  const changed = await page.evaluate(() => window.sibylRefresh());
  await new Promise((r) => setTimeout(r, 500)); // the last events come after
  const bytes = [...seen.values()].reduce((a, x) => a + x, 0);
  check(changed === false && got.length === 2 && got.every((s) => s === 304), `idle refresh: ${changed} ${got}`);
  check(bytes < 1024, `idle refresh transferred ${bytes} bytes`);
  // A trial imported meanwhile appears.
  await api.post('/v1/owners/t/studies/one/trials', {
    state: 'SUCCEEDED',
    parameters: [{ parameterId: 'lr', value: 0.001 }, { parameterId: 'layers', value: 2 },
      { parameterId: 'opt', value: 'adam' }, { parameterId: 'dropout', value: 0.1 }],
    finalMeasurement: { metrics: [{ metricId: 'acc', value: 0.95 }] },
  });
  check(await page.evaluate(() => window.sibylRefresh()), 'a new trial is seen');
  let hist = await data(page, '#chart-history');
  check(hist.points === '42', `history after refresh: ${hist.points}`);
  // A worker finishes an ACTIVE trial: it leaves the unfinished set and
  // is read again alone.
  await api.post(`/v1/owners/t/studies/one/trials/${one.activeId2}:complete`,
    { finalMeasurement: { metrics: [{ metricId: 'acc', value: 0.7 }] } });
  check(await page.evaluate(() => window.sibylRefresh()), 'a finished trial is seen');
  hist = await data(page, '#chart-history');
  check(hist.points === '43', `history after a trial finished: ${hist.points}`);
  const row = await page.$eval(`#trials tr[data-trial="${one.activeId2}"]`, (r) => r.textContent);
  check(/SUCCEEDED/.test(row), `the finished trial's row: ${row}`);
  await cdp.detach();
  return bytes;
}

async function studyTwo(page, base, two) {
  await openStudy(page, base, 'two');
  const p = await data(page, '#chart-pareto');
  check(Number(p.front) === two.front && Number(p.points) === two.feasible && Number(p.infeasible) === two.infeasible,
    `pareto ${JSON.stringify(p)}`);
  const hist = await data(page, '#chart-history');
  check(Number(hist.points) === two.feasible && Number(hist.infeasible) === two.infeasible, `history two ${JSON.stringify(hist)}`);
  await drawAll(page);
  await shot(page, 'study-two');
  await docShot(page, 'study-pareto', '#sec-pareto');
  noErrors(page, 'study two');
}

async function trialPages(page, base, one, writer) {
  await go(page, `${base}/ui/#/o/t/s/one/t/${one.completedSuggested}`, 'trial');
  const pred = await page.$eval('#trial-prediction', (e) => e.textContent);
  check(/predicted/.test(pred) && /±/.test(pred) && /measured0\.5/.test(pred), `prediction: ${pred}`);
  await shot(page, 'trial');
  await docShot(page, 'trial', null);
  await go(page, `${base}/ui/#/o/t/s/one/t/1`, 'trial');
  check((await page.$eval('h1', (e) => e.textContent)) === 'Trial 1', 'trial 1 page');
  check((await page.$$('#measurements tbody tr')).length === 3, 'trial 1 measurements');
  await go(page, `${base}/ui/#/o/t/s/one/t/${one.activeId}`, 'trial');
  const buttons = await page.$$eval('button.write', (b) => b.map((x) => x.textContent));
  check(writer ? buttons.join() === 'Stop,Delete' : buttons.length === 0, `write actions: ${buttons}`);
  noErrors(page, 'trial pages', writer ? [] : [403]);
}

async function otherOwner(page, base) {
  await page.goto(`${base}/ui/#/o/other/s/secret`);
  await page.waitForSelector('.note.error');
  const text = await page.$eval('.note.error', (e) => e.textContent);
  check(/not found/.test(text), `another owner's study: ${text}`);
  noErrors(page, 'other owner', [404]);
}

async function admin(browser, base, secrets) {
  const page = await newPage(browser);
  await signIn(page, base, '', (await import('./lib.mjs')).ADMIN_KEY);
  await page.waitForFunction(() => document.body.dataset.ready === 'admin');
  const owners = await page.$$('#owners-table tbody tr');
  const keys = await page.$$('#keys-table tbody tr');
  const audit = await page.$$('#audit-table tbody tr');
  check(owners.length === 2 && keys.length === 2 && audit.length > 5, `admin tables ${owners.length} ${keys.length} ${audit.length}`);
  const html = await page.content();
  check(secrets.every((s) => !html.includes(s)), 'no secret on the admin page');
  await shot(page, 'admin');
  noErrors(page, 'admin');
  await page.close();
}

async function phone(browser, base, key) {
  const page = await newPage(browser, 390, 844);
  await signIn(page, base, 't', key);
  await page.waitForSelector('#studies');
  await openStudy(page, base, 'one');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  check(wide <= 400, `phone width: the page is ${wide} px wide`);
  await drawAll(page);
  await shot(page, 'study-one-phone');
  await docShot(page, 'phone', 'h1');
  noErrors(page, 'phone', [403]);
  await page.close();
}

async function main() {
  const d = await startDaemon();
  const admin_ = client(d.url);
  let b;
  try {
    await admin_.post('/v1/owners', { ownerId: 't' });
    const writer = await makeKey(admin_, 't', 'WRITER');
    const reader = await makeKey(admin_, 't', 'READER');
    const api = client(d.url, writer);
    const one = await seedOne(api, 't');
    const two = await seedTwo(api, 't');
    await seedEmpty(api, 't');
    await seedOther(admin_);
    b = await launch();
    // The static files: compressed, cached, locked down.
    const r = await fetch(`${d.url}/ui/vendor/echarts.esm.min.js`, { headers: { 'Accept-Encoding': 'gzip' } });
    check(r.headers.get('content-encoding') === 'gzip' && /default-src 'self'/.test(r.headers.get('content-security-policy')) &&
      r.headers.get('etag'), 'static headers');
    const again = await fetch(`${d.url}/ui/`, { headers: { 'If-None-Match': (await fetch(`${d.url}/ui/`)).headers.get('etag') } });
    check(again.status === 304, `index revalidates: ${again.status}`);

    await wrongKey(b.browser, d.url);
    const page = await newPage(b.browser);
    await signIn(page, d.url, 't', writer);
    await studiesList(page, d.url);
    noErrors(page, 'studies');
    await studyOne(page, d.url, one);
    const idle = await refresh(page, d.url, api, one);
    await studyTwo(page, d.url, two);
    await studyEmpty(page, d.url);
    await trialPages(page, d.url, one, true);
    await otherOwner(page, d.url);
    await page.close();

    const rp = await newPage(b.browser);
    await signIn(rp, d.url, 't', reader);
    await rp.waitForSelector('#studies');
    check((await rp.$eval('#nav .who', (e) => e.textContent)).includes('READER'), 'signed in as a READER');
    check(!(await rp.$('#nav a[href="#/admin"]')), 'no admin link for a READER');
    await trialPages(rp, d.url, one, false);
    await rp.close();
    await admin(b.browser, d.url, [writer, reader]);
    await phone(b.browser, d.url, reader);
    console.log(`browser-dashboard: ${checks} checks passed; idle refresh ${idle} bytes; screenshots in ${OUT}`);
  } finally {
    if (b) await b.close();
    await d.stop();
  }
}

main().catch((e) => {
  console.error(`browser-dashboard: FAILED after ${checks} checks: ${e.stack || e}`);
  process.exit(1);
});
