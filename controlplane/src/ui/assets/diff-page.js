// Spooky console: the side-by-side semantic diff of two generations (secrets redacted by the
// server) and the behaviour diff for pasted sample requests.

import { api, scope } from './api.js';
import { enc, h, json, short, table } from './dom.js';

export async function diffPage(view, params) {
  const from = h('input', { id: 'diff-from', value: params.get('from') ?? 'active', required: true, autocomplete: 'off' });
  const to = h('input', { id: 'diff-to', value: params.get('to') ?? '', required: true, autocomplete: 'off' });
  view.append(h('h2', {}, `Diff in ${scope()}`), h('form', {
    class: 'inline',
    onsubmit: (e) => { e.preventDefault(); location.hash = `#/diff?from=${enc(from.value.trim())}&to=${enc(to.value.trim())}`; },
  }, h('label', { for: 'diff-from' }, 'From (seq or active)'), from, h('label', { for: 'diff-to' }, 'To (seq or active)'), to,
  h('button', { type: 'submit' }, 'Compare')));
  if (!params.get('to')) return;
  const d = (await api('GET', `/v1/scopes/${enc(scope())}/diff?from=${enc(from.value)}&to=${enc(to.value)}`)).body;
  const side = (x) => (x ? `seq ${x.seq} (${short(x.digest)})` : 'nothing active');
  const grid = h('div', { class: 'diff', role: 'table', 'aria-label': 'Changes, before and after' },
    h('div', { class: 'head', role: 'columnheader' }, `Before: ${side(d.from)}`), h('div', { class: 'head', role: 'columnheader' }, `After: ${side(d.to)}`));
  for (const c of d.changes) {
    grid.append(
      h('div', { class: 'entity', role: 'rowheader' }, `${c.entity} ${c.id ?? ''} · ${c.op} · `, h('code', {}, c.path ?? '/')),
      h('pre', { class: c.op === 'add' ? '' : 'removed', role: 'cell' }, c.op === 'add' ? '(absent)' : json(c.before)),
      h('pre', { class: c.op === 'remove' ? '' : 'added', role: 'cell' }, c.op === 'remove' ? '(absent)' : json(c.after)),
    );
  }
  view.append(h('p', {}, `${d.totalChanges ?? d.changes.length} change(s)${d.truncated ? ' (truncated)' : ''}; secrets are redacted.`), grid);
  view.append(behaviourForm(from.value.trim(), to.value.trim()));
}

/** `active` stays a word; a seq becomes the integer the strict JSON body requires. */
const selector = (text) => (text === 'active' ? 'active' : Number(text));

/** Sample requests (`METHOD HOST PATH`, one a line) routed by both generations: which change upstream. */
function behaviourForm(from, to) {
  const input = h('textarea', { id: 'probe-requests', rows: 3, spellcheck: 'false', placeholder: 'GET example.com /api/users' });
  const out = h('div', { id: 'probe-results' });
  const run = async (e) => {
    e.preventDefault();
    const requests = input.value.split('\n').map((l) => l.trim()).filter((l) => l !== '').map((l) => {
      const [method = 'GET', host = '', path = '/'] = l.split(/\s+/);
      return { method: method.toUpperCase(), host, path };
    });
    try {
      const r = (await api('POST', `/v1/scopes/${enc(scope())}/diff/behaviour`, { body: { from: selector(from), to: selector(to), requests } })).body;
      out.replaceChildren(table(['Request', 'Before', 'After', 'Changed'], r.results.map((x) => [
        `${x.request.method} ${x.request.host}${x.request.path}`, h('code', {}, json(x.before)), h('code', {}, json(x.after)),
        x.changed ? h('span', { class: 'tag bad' }, 'changed') : 'same',
      ])));
    } catch (err) {
      out.replaceChildren(h('p', { class: 'bad' }, err.message));
    }
  };
  return h('section', { 'aria-labelledby': 'probe-title' }, h('h3', { id: 'probe-title' }, 'Behaviour for sample requests'),
    h('form', { onsubmit: run }, h('label', { for: 'probe-requests' }, 'Requests, one per line: METHOD HOST PATH'), input,
      h('button', { type: 'submit' }, 'Route with both')), out);
}
