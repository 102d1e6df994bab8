// The REST API of docs/API.md, with the user's key as a Bearer header.
// The key lives in sessionStorage only (gone when the tab closes); it is
// never put in a URL or a cookie.

const KEY = 'sibyl.key';
const OWNER = 'sibyl.owner';

export class ApiError extends Error {
  constructor(status, name, message) {
    super(message);
    this.status = status;
    this.statusName = name;
  }
}

export const session = {
  get key() { return sessionStorage.getItem(KEY) || ''; },
  get owner() { return sessionStorage.getItem(OWNER) || ''; },
  save(key, owner) {
    sessionStorage.setItem(KEY, key);
    sessionStorage.setItem(OWNER, owner);
  },
  clear() {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(OWNER);
  },
};

// Every request: no HTTP cache (the page keeps what it has and asks with
// If-None-Match itself, so that it sees the 304).
async function request(method, path, { body, etag, accept } = {}) {
  const headers = { Authorization: `Bearer ${session.key}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (etag) headers['If-None-Match'] = etag;
  if (accept) headers.Accept = accept;
  let r;
  try {
    r = await fetch(path, {
      method, headers, cache: 'no-store', credentials: 'omit',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'UNAVAILABLE', `cannot reach sibyld: ${e.message}`);
  }
  if (r.status === 304) return { notModified: true, etag };
  const text = await r.text();
  if (!r.ok) {
    let name = 'UNKNOWN', msg = text;
    try {
      const j = JSON.parse(text);
      name = j.error.status;
      msg = j.error.message;
    } catch (_) { /* not the envelope */ }
    throw new ApiError(r.status, name, msg);
  }
  return { text, etag: r.headers.get('ETag') };
}

export async function get(path, opts) {
  const r = await request('GET', path, opts);
  if (r.notModified) return r;
  return { data: JSON.parse(r.text), etag: r.etag };
}

export async function getJson(path) {
  return (await get(path)).data;
}

export async function post(path, body) {
  return JSON.parse((await request('POST', path, { body: body || {} })).text);
}

export async function del(path) {
  return JSON.parse((await request('DELETE', path)).text);
}

// A CSV answer (docs/API.md "Export as CSV") as rows of strings.
export async function getCsv(path, etag) {
  const r = await request('GET', path, { etag, accept: 'text/csv' });
  if (r.notModified) return r;
  return { rows: parseCsv(r.text), etag: r.etag, bytes: r.text.length };
}

// RFC 4180. Lines without a quote (nearly all) are split directly.
export function parseCsv(text) {
  if (!text.includes('"')) {
    const lines = text.split(/\r?\n/);
    if (lines.at(-1) === '') lines.pop();
    return lines.map((l) => l.split(','));
  }
  return parseQuoted(text);
}

function parseQuoted(text) {
  const rows = [];
  let row = [], cell = '', i = 0, quoted = false;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { cell += '"'; i += 2; continue; }
        quoted = false; i++; continue;
      }
      cell += c; i++; continue;
    }
    if (c === '"') { quoted = true; i++; continue; }
    if (c === ',') { row.push(cell); cell = ''; i++; continue; }
    if (c === '\r' || c === '\n') {
      row.push(cell); cell = ''; rows.push(row); row = [];
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    cell += c; i++;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

// Every page of a JSON list (field: the array's name).
export async function listAll(path, field, pageSize = 1000) {
  const out = [];
  let token = '';
  const sep = path.includes('?') ? '&' : '?';
  do {
    const q = `${sep}pageSize=${pageSize}${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`;
    const j = await getJson(path + q);
    out.push(...(j[field] || []));
    token = j.nextPageToken || '';
  } while (token);
  return out;
}

export const enc = encodeURIComponent;
