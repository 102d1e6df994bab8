// Shared by the browser test and the dashboard bench: the real sibyld on a
// free port with a fresh database, the REST calls that seed it, and
// Debian's chromium driven by puppeteer-core.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

export const ADMIN_KEY = 'browser-admin-key-0123456789abcdef';
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export async function startDaemon(extraArgs = []) {
  const bin = process.env.SIBYLD;
  if (!bin || !existsSync(bin)) throw new Error('SIBYLD must name the built sibyld');
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-browser-'));
  const env = { ...process.env, SIBYL_ADMIN_KEY: ADMIN_KEY };
  for (const k of ['SIBYL_CONFIG', 'SIBYL_LISTEN', 'SIBYL_DB', 'SIBYL_ADMIN_KEY_FILE']) delete env[k];
  const proc = spawn(bin, ['--listen', '127.0.0.1:0', '--db', join(dir, 'sibyl.db'), ...extraArgs], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ready line from sibyld: ${stderr}`)), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /sibyld: listening on (.*):(\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[2]}`);
      }
    });
    proc.on('exit', (c) => reject(new Error(`sibyld exited (${c}): ${stderr}`)));
  });
  return {
    url, dir, proc,
    stderr: () => stderr,
    async stop() {
      const done = new Promise((r) => proc.on('exit', (code, sig) => r({ code, sig })));
      proc.kill('SIGTERM');
      const { code, sig } = await done;
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0 || /AddressSanitizer|LeakSanitizer|runtime error:/.test(stderr)) {
        throw new Error(`sibyld exit ${code} ${sig || ''}: ${stderr.slice(-2000)}`);
      }
    },
  };
}

export function client(base, key = ADMIN_KEY) {
  const call = async (method, path, body) => {
    const r = await fetch(base + path, {
      method,
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : {};
  };
  return {
    get: (p) => call('GET', p),
    post: (p, b) => call('POST', p, b || {}),
  };
}

export async function makeKey(api, owner, role) {
  return (await api.post(`/v1/owners/${owner}/apiKeys`, { role, displayName: `${role} key` })).key;
}

export async function launch() {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage', `--user-data-dir=${dir}`],
  });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// A page that records console errors and uncaught exceptions.
export async function newPage(browser, width = 1280, height = 800) {
  const page = await browser.newPage();
  await page.setViewport({ width, height });
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  page.on('pageerror', (e) => page.errors.push(`uncaught: ${e.message}`));
  return page;
}

export async function signIn(page, base, owner, key) {
  await page.goto(`${base}/ui/#/signin`, { waitUntil: 'load' });
  await page.waitForSelector('form.signin');
  await page.$eval('#owner', (el, v) => { el.value = v; }, owner);
  await page.type('#key', key);
  await Promise.all([page.click('form.signin button[type=submit]')]);
}
