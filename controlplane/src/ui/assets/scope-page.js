// Spooky console: the scope page. Every scope the token may see (GET /v1/scopes: active seq,
// LKG, live rollout, node counts) with a link that makes it the console's scope, then the
// chosen scope in detail: the pointer, the actions, fleet convergence, its rollouts.

import { activate, rollback, rollbackButton, rolloutButton, seqForm } from './actions.js';
import { api, scope, storeScope } from './api.js';
import { enc, facts, h, short, table, when } from './dom.js';

/** The scope list; a scope's name selects it (kept in session storage, like the scope form). */
async function scopeList(view, rerender) {
  const list = await api('GET', '/v1/scopes').catch((e) => ({ error: e }));
  if (list.error) {
    view.append(h('p', { class: 'bad' }, `Scope list unavailable: ${list.error.message}`));
    return;
  }
  const nodes = (n) => (n === null ? 'needs fleet:read' : `${n.total} (connected ${n.connected}, stale ${n.stale}, disconnected ${n.disconnected}; converged ${n.converged}, NACKing ${n.nacking})`);
  const rollout = (r) => (r === null ? '—' : `${r.status}: seq ${r.targetSeq}, stage ${r.stage}/${r.stages}${r.stageName ? ` ${r.stageName}` : ''}`);
  const pick = (name) => (e) => {
    e.preventDefault();
    storeScope(name);
    rerender();
  };
  view.append(h('h2', {}, 'Scopes'), table(['Scope', 'Active seq', 'LKG', 'Rollout', 'Nodes'], list.body.items.map((s) => [
    h('a', { href: '#/scopes', 'data-scope': s.scope, 'aria-current': s.scope === scope() ? 'true' : undefined, onclick: pick(s.scope) }, s.scope),
    s.active ? `${s.active.seq}` : 'none yet', s.lkgSeq ?? '—',
    [rollout(s.rollout), s.frozen ? h('span', { class: 'tag bad' }, 'frozen') : null], nodes(s.nodes),
  ])));
}

export async function scopePage(view, _params, rerender) {
  await scopeList(view, rerender);
  const s = enc(scope());
  const [active, status, rollouts] = await Promise.all([
    api('GET', `/v1/scopes/${s}/active`),
    api('GET', `/v1/scopes/${s}/status`).catch((e) => ({ error: e })),
    api('GET', `/v1/rollouts?scope=${s}&limit=10`).catch((e) => ({ error: e })),
  ]);
  const a = active.body;
  view.append(
    h('h2', {}, `Scope ${scope()}`),
    facts([
      ['Active seq', a.seq ?? 'none yet'],
      ['Digest', h('code', {}, a.digest ?? '—')],
      ['Pointer version', a.version],
      ['Activated', `${when(a.activatedAt)}${a.actor ? ` by ${a.actor}` : ''}`],
      ['Reason', a.reason ?? '—'],
      ['Last known good', a.lkgSeq ?? 'none recorded'],
    ]),
    h('h3', {}, 'Actions'),
    h('div', { class: 'actions' },
      rollbackButton('previous', 'Roll back to previous', a.version),
      rollbackButton('lkg', 'Roll back to LKG', a.version)),
    seqForm('rollback-seq', 'Roll back to seq', 'rollback', (seq) => rollback(seq, a.version)),
    seqForm('activate-seq', 'Activate seq', 'activate', (seq) => activate(seq, a.version)),
    h('h3', {}, 'Fleet convergence'),
  );
  if (status.error) view.append(h('p', { class: 'bad' }, `Status unavailable: ${status.error.message}`));
  else {
    const n = status.body.nodes;
    view.append(
      facts([['Nodes', `${n.total} (connected ${n.connected}, stale ${n.stale}, disconnected ${n.disconnected})`],
        ['Converged on active', n.converged], ['NACKing', n.nacking]]),
      table(['Serving seq', 'Digest', 'Nodes'], status.body.byGeneration.map((g) => [g.seq, h('code', {}, short(g.digest)), g.count])),
    );
  }
  view.append(h('h3', {}, 'Rollouts'));
  if (rollouts.error) {
    view.append(h('p', {}, rollouts.error.status === 501 ? 'Staged rollouts are not enabled on this control plane.' : `Rollouts unavailable: ${rollouts.error.message}`));
    return;
  }
  // The list holds summaries; the live rollout (at most one per scope) is read in full for its stage.
  const live = (r) => r.status === 'running' || r.status === 'paused';
  const details = new Map();
  for (const r of rollouts.body.items.filter(live)) details.set(r.id, (await api('GET', `/v1/rollouts/${enc(r.id)}`)).body);
  const stage = (r) => {
    const d = details.get(r.id);
    const current = d?.stages?.[d.currentStage];
    return current ? `${d.currentStage + 1}/${d.stages.length} ${current.name} (${current.state})` : '—';
  };
  const controls = (r) => (r.status === 'running' ? ['pause', 'promote', 'abort'] : ['resume', 'promote', 'abort']);
  view.append(table(['Id', 'Target seq', 'Status', 'Stage', 'Updated', 'Controls'], rollouts.body.items.map((r) => [
    h('code', {}, r.id), r.targetSeq, h('span', { class: 'tag' }, r.status), stage(r), when(r.updatedAt),
    live(r) ? h('div', { class: 'actions' }, controls(r).map((x) => rolloutButton(r, x))) : '—',
  ])));
}
