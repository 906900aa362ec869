// Spooky console: the audit log of the scope (newest first) with verification of its hash chain.

import { api, scope } from './api.js';
import { enc, h, json, say, short, table, when } from './dom.js';

const MAX_ENTRIES = 200;

export async function auditPage(view) {
  const out = h('p', { id: 'audit-verdict', role: 'status' });
  const verify = async () => {
    const v = (await api('GET', '/v1/audit/verify')).body;
    out.className = v.ok ? 'ok' : 'bad';
    out.textContent = v.ok ? `Hash chain verified: ${v.entries} entries intact.` : `Hash chain BROKEN at entry ${v.brokenAt}: ${v.reason}`;
  };
  let items = [];
  let since = 0;
  for (let page = 0; page < 20; page++) {
    const res = (await api('GET', `/v1/audit?scope=${enc(scope())}&since=${since}&limit=1000`)).body;
    items = items.concat(res.items).slice(-MAX_ENTRIES);
    if (res.next === null) break;
    since = res.next;
  }
  view.append(h('h2', {}, `Audit log of ${scope()}`),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => verify().catch((e) => say(e.message, true)) }, 'Verify chain')), out,
    table(['Id', 'At', 'Actor', 'Action', 'Detail', 'Hash'], items.reverse().map((e) => [
      e.id, when(e.at), e.actor, e.action, h('pre', {}, json(e.detail)), h('code', { title: `prev ${e.prev_hash}` }, short(e.hash)),
    ])));
  await verify();
}
