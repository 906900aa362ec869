// Spooky console: the generation history (seq, state active / lkg / failed, author, reason,
// digest) with an Activate button per generation when the token may activate.

import { activateButton } from './actions.js';
import { api, scope } from './api.js';
import { enc, h, short, table, when } from './dom.js';
import { can, deniedNote } from './permissions.js';

export async function historyPage(view) {
  const s = enc(scope());
  const [active, list] = await Promise.all([api('GET', `/v1/scopes/${s}/active`), api('GET', `/v1/scopes/${s}/generations?limit=100`)]);
  const a = active.body;
  const state = (g) => (g.seq === a.seq ? 'active' : g.failed ? 'failed' : g.seq === a.lkgSeq ? 'lkg' : '');
  const mayActivate = can('activate');
  view.append(h('h2', {}, `Generations of ${scope()}`), deniedNote('activate', 'Activate'), table(
    ['Seq', 'State', 'Created', 'Author', 'Reason', 'Digest', 'Size', 'Actions'],
    list.body.items.map((g) => [
      g.seq,
      state(g) ? h('span', { class: `tag state-${state(g)}`, title: g.failedReason ?? '' }, state(g)) : '—',
      when(g.createdAt), g.author, g.reason, h('code', { title: g.digest }, short(g.digest)), `${g.sizeBytes} B`,
      h('div', { class: 'actions' },
        g.seq === a.seq ? null : activateButton(g.seq, a.version, mayActivate),
        h('a', { href: `#/diff?from=${a.seq ?? ''}&to=${g.seq}` }, 'Diff vs active')),
    ]),
  ), ...(list.body.next ? [h('p', {}, `Showing the newest ${list.body.items.length}.`)] : []));
}
