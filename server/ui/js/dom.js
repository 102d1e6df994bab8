// Small DOM and formatting helpers. No inline styles or handlers in markup:
// the Content-Security-Policy allows only this origin's files.

// h('tag.class#id', {attrs, on: {click: fn}}, ...children)
export function h(spec, attrs, ...children) {
  const m = /^([a-z0-9]+)?(.*)$/i.exec(spec);
  const el = document.createElement(m[1] || 'div');
  for (const part of m[2].match(/[.#][^.#]+/g) || []) {
    if (part[0] === '.') el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// Replaces el's children (arrays flattened, null and false skipped).
export function fill(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// Appends to el as h() does.
export function add(el, ...children) {
  append(el, children);
  return el;
}

// Numbers: up to 4 significant digits, exponent for very large or small.
export function num(v) {
  if (v === null || v === undefined || v === '' || Number.isNaN(v)) return '';
  if (typeof v === 'string') return v;
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toISOString().replace('T', ' ').slice(0, 19);
}

export function ago(ms) {
  if (!ms) return '';
  const s = Math.max(0, (Date.now() - ms) / 1000);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function duration(startIso, endIso) {
  if (!startIso || !endIso) return '';
  const s = (new Date(endIso) - new Date(startIso)) / 1000;
  return s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;
}

// A message box; kind: 'error' or 'info'.
export function note(kind, text) {
  return h(`p.note.${kind}`, { role: kind === 'error' ? 'alert' : 'status' }, text);
}
