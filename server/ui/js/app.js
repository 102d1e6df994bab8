// The dashboard: sign-in, the router (#/o/OWNER, #/o/OWNER/s/STUDY,
// #/o/OWNER/s/STUDY/t/ID, #/admin) and the page frame.
import { ApiError, enc, getJson, session } from './api.js';
import { clear, h, note } from './dom.js';
import { adminView } from './admin.js';
import { studiesView } from './studies.js';
import { studyView } from './study.js';
import { trialView } from './trials.js';

const ROLE = 'sibyl.role';
const main = document.getElementById('main');
const nav = document.getElementById('nav');
let stopView = null;

function role() { return sessionStorage.getItem(ROLE) || ''; }

// Which kind of key this is: the admin's (it may list owners), or an
// owner's WRITER (it may list its owner's keys) or READER (it may not).
async function signIn(owner, key) {
  session.save(key, owner);
  try {
    if (!owner) {
      await getJson('/v1/owners?pageSize=1');
      sessionStorage.setItem(ROLE, 'ADMIN');
      return;
    }
    await getJson(`/v1/owners/${enc(owner)}/studies?pageSize=1`);
    let r = 'READER';
    try {
      await getJson(`/v1/owners/${enc(owner)}/apiKeys?pageSize=1`);
      r = 'WRITER';
      // An owner's keys have the form sk_<id>_<secret> (docs/admin.md).
      if (!/^sk_[0-9a-f]{16}_/.test(key)) {
        await getJson('/v1/owners?pageSize=1');
        r = 'ADMIN';
      }
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 403) throw e;
    }
    sessionStorage.setItem(ROLE, r);
  } catch (e) {
    session.clear();
    sessionStorage.removeItem(ROLE);
    throw e;
  }
}

function signInView() {
  const owner = h('input#owner', { name: 'owner', autocomplete: 'username', placeholder: 'e.g. vision', value: session.owner });
  const key = h('input#key', { name: 'key', type: 'password', autocomplete: 'current-password', required: true });
  const msg = h('div.msg', { 'aria-live': 'polite' });
  const form = h('form.signin', { on: { submit: async (ev) => {
    ev.preventDefault();
    clear(msg);
    try {
      await signIn(owner.value.trim(), key.value.trim());
      location.hash = owner.value.trim() ? `#/o/${enc(owner.value.trim())}` : '#/admin';
    } catch (e) {
      msg.append(note('error', e.status === 401 || e.status === 404
        ? `The key was refused: ${e.message}` : `Cannot sign in: ${e.message}`));
    }
  } } },
  h('h1', 'Sign in to sibyl'),
  h('label', { for: 'owner' }, 'Owner'), owner,
  h('p.hint', 'Leave empty with the admin key.'),
  h('label', { for: 'key' }, 'API key'), key,
  h('p.hint', 'Kept in this tab only (sessionStorage), sent as a Bearer header.'),
  h('button', { type: 'submit' }, 'Sign in'), msg);
  main.append(form);
  owner.focus();
}

function frame() {
  clear(nav);
  if (!session.key) return;
  const r = role();
  if (session.owner) nav.append(h('a', { href: `#/o/${enc(session.owner)}` }, 'Studies'));
  if (r === 'ADMIN') nav.append(h('a', { href: '#/admin' }, 'Admin'));
  nav.append(h('span.who', `${session.owner || 'admin'} · ${r}`),
    h('button.link#signout', { type: 'button', on: { click: () => {
      session.clear();
      sessionStorage.removeItem(ROLE);
      location.hash = '#/signin';
    } } }, 'Sign out'));
}

async function route() {
  if (stopView) stopView();
  stopView = null;
  clear(main);
  frame();
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (!session.key || parts[0] === 'signin') return signInView();
  const r = role();
  const ctx = { role: r, canWrite: r === 'WRITER' || r === 'ADMIN', main };
  try {
    if (parts[0] === 'admin' && r === 'ADMIN') stopView = await adminView(ctx);
    else if (parts[0] === 'o' && parts[1] && parts[2] === 's' && parts[3] && parts[4] === 't')
      stopView = await trialView({ ...ctx, owner: parts[1] }, parts[3], parts[5]);
    else if (parts[0] === 'o' && parts[1] && parts[2] === 's' && parts[3])
      stopView = await studyView({ ...ctx, owner: parts[1] }, parts[3]);
    else if (parts[0] === 'o' && parts[1]) stopView = await studiesView({ ...ctx, owner: parts[1] });
    else location.hash = session.owner ? `#/o/${enc(session.owner)}` : '#/admin';
  } catch (e) {
    main.append(note('error', e.message));
  }
}

window.addEventListener('hashchange', route);
route();
