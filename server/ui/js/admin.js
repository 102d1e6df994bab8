// For the admin key: owners with their quotas, each owner's keys (names,
// roles and states; a secret is never stored, so never shown) and the
// audit log.
import { enc, getJson, listAll } from './api.js';
import { h, note, when } from './dom.js';

function table(id, cols, rows) {
  return h('div.scroll', h(`table.grid#${id}`,
    h('thead', h('tr', cols.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', rows.map((r) => h('tr', r.map((c) => h('td', c)))))));
}

export async function adminView(ctx) {
  const { main } = ctx;
  main.append(h('h1', 'Administration'));
  const owners = await listAll('/v1/owners', 'owners', 100);
  const quota = (q, k) => (q && q[k] !== undefined && String(q[k]) !== '0' ? String(q[k]) : 'no limit');
  main.append(h('section.card#owners', h('h2', 'Owners and quotas'),
    owners.length ? table('owners-table', ['owner', 'name', 'created', 'max studies', 'max trials per study', 'max active trials', 'requests/s'],
      owners.map((o) => {
        const id = o.name.split('/').pop();
        return [h('a', { href: `#/o/${enc(id)}` }, id), o.displayName || '', when(o.createTime),
          quota(o.quota, 'maxStudies'), quota(o.quota, 'maxTrialsPerStudy'), quota(o.quota, 'maxActiveTrials'), quota(o.quota, 'requestsPerSecond')];
      })) : note('info', 'No owners yet.')));
  const keys = h('section.card#keys', h('h2', 'API keys'));
  main.append(keys);
  const rows = [];
  for (const o of owners) {
    const id = o.name.split('/').pop();
    for (const k of await listAll(`/v1/owners/${enc(id)}/apiKeys`, 'apiKeys', 100)) {
      rows.push([id, k.name.split('/').pop(), k.role, k.displayName || '', k.state, when(k.createTime), when(k.revokeTime)]);
    }
  }
  keys.append(rows.length ? table('keys-table', ['owner', 'key id', 'role', 'name', 'state', 'created', 'revoked'], rows)
    : note('info', 'No keys yet.'));
  const audit = await getJson('/v1/auditLog?pageSize=100');
  main.append(h('section.card#audit', h('h2', 'Audit log (latest 100)'),
    table('audit-table', ['time', 'owner', 'key id', 'method', 'path', 'status', 'error'],
      (audit.auditEntries || []).map((a) => [when(a.time), a.owner, a.keyId, a.method, a.path, String(a.status), a.error || '']))));
  document.body.dataset.ready = 'admin';
  return () => { delete document.body.dataset.ready; };
}
