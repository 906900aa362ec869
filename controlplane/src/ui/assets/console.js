// Spooky operator console: one ES module, no dependencies, no build step (issue 13).
// Contract: every call goes to the REST API (/v1) with `Authorization: Bearer <token>`; the
// token lives in sessionStorage only (never a URL, never a cookie) and "Forget token" removes
// it. Every change (activate, rollback, rollout controls) goes through the confirmation dialog,
// which requires a reason sent as Spooky-Change-Reason, with a fresh Idempotency-Key so a
// double submit moves nothing twice. Page text is set with textContent only (never innerHTML):
// config values, reasons and labels cannot inject markup.

const TOKEN_KEY = 'spooky.token';
const SCOPE_KEY = 'spooky.scope';
const SCOPE_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const MAX_EVENTS = 200;

const $ = (id) => document.getElementById(id);
let pageAbort = new AbortController();

/** An element with attributes (`on*` functions become listeners) and text or element children. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const token = () => sessionStorage.getItem(TOKEN_KEY);
const scope = () => sessionStorage.getItem(SCOPE_KEY) ?? 'default';
const enc = encodeURIComponent;
const short = (digest) => (typeof digest === 'string' ? digest.replace(/^sha256:/, '').slice(0, 12) : '—');
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
const json = (v) => (v === undefined ? '—' : JSON.stringify(v, null, 2));

function say(text, error = false) {
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('error', error);
}

class ApiError extends Error {
  constructor(status, problem) {
    super(`${status} ${problem?.title ?? 'error'}${problem?.detail ? `: ${problem.detail}` : ''}`);
    this.status = status;
    this.problem = problem;
  }
}

/** Calls the REST API; resolves to {body, headers}; rejects with ApiError on a non-2xx answer. */
async function api(method, path, { body, reason, ifMatch, signal } = {}) {
  const headers = { authorization: `Bearer ${token()}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (reason !== undefined) {
    headers['spooky-change-reason'] = reason;
    headers['idempotency-key'] = crypto.randomUUID();
  }
  if (ifMatch !== undefined) headers['if-match'] = ifMatch;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'omit',
    cache: 'no-store',
    signal: signal ?? pageAbort.signal,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = { title: text.slice(0, 200) };
  }
  if (res.status === 401) showLogin('The token was refused (401). Enter a valid token.');
  if (!res.ok) throw new ApiError(res.status, parsed);
  return { body: parsed, headers: res.headers };
}

// ---- confirmation dialog -------------------------------------------------------------------

/** Opens the modal dialog; resolves to the reason entered, or null when cancelled. */
function confirmAction(title, text) {
  const dialog = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  const reason = $('confirm-reason');
  reason.value = '';
  return new Promise((resolve) => {
    const done = (value) => {
      dialog.removeEventListener('close', onClose);
      $('confirm-form').removeEventListener('submit', onSubmit);
      $('confirm-cancel').removeEventListener('click', onCancel);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const onSubmit = (e) => {
      e.preventDefault();
      const value = reason.value.trim();
      if (value === '') {
        reason.setCustomValidity('A reason is required.');
        reason.reportValidity();
        return;
      }
      done(value);
    };
    const onCancel = () => done(null);
    const onClose = () => done(null);
    reason.oninput = () => reason.setCustomValidity('');
    dialog.addEventListener('close', onClose);
    $('confirm-form').addEventListener('submit', onSubmit);
    $('confirm-cancel').addEventListener('click', onCancel);
    dialog.showModal();
    reason.focus();
  });
}

/** Confirms, runs `call(reason)`, reports the outcome and re-renders the page. */
async function act(title, text, call) {
  const reason = await confirmAction(title, text);
  if (reason === null) return say('Cancelled; nothing changed.');
  try {
    const result = await call(reason);
    say(`${title}: done.${describeMove(result?.body)}`);
  } catch (err) {
    say(`${title} failed: ${err.message}`, true);
  }
  await render();
}

function describeMove(body) {
  if (!body?.active) return '';
  return ` Active is now seq ${body.active.seq} (version ${body.active.version})${body.moved === false ? '; nothing moved' : ''}.`;
}

/** Activates `seq` (If-Match: the pointer version the page showed, so a stale page gets 412). */
function activate(seq, version) {
  return act('Activate', `Make seq ${seq} the active generation of scope ${scope()}? Traffic moves once the fleet applies it.`, (reason) =>
    api('PUT', `/v1/scopes/${enc(scope())}/active`, { body: { seq }, reason, ifMatch: `"${version}"` }),
  );
}

/** Rolls back to 'previous', 'lkg' or a seq (If-Match as for activate). */
function rollback(to, version) {
  const target = to === 'previous' ? 'the previous generation' : to === 'lkg' ? 'the last known good generation' : `seq ${to}`;
  return act('Roll back', `Roll scope ${scope()} back to ${target}?`, (reason) =>
    api('POST', `/v1/scopes/${enc(scope())}/rollback`, { body: { to }, reason, ifMatch: `"${version}"` }),
  );
}

const activateButton = (seq, version) => h('button', { type: 'button', onclick: () => activate(seq, version) }, `Activate seq ${seq}`);
const rollbackButton = (to, label, version) =>
  h('button', { type: 'button', class: 'danger', 'data-action': `rollback-${to}`, onclick: () => rollback(to, version) }, label);

function rolloutButton(rollout, action) {
  return h('button', {
    type: 'button',
    class: action === 'abort' ? 'danger' : undefined,
    'data-action': `rollout-${action}`,
    onclick: () =>
      act(`Rollout ${action}`, `${action[0].toUpperCase()}${action.slice(1)} rollout ${rollout.id} (seq ${rollout.targetSeq}, ${rollout.status})?`, (reason) =>
        api('POST', `/v1/rollouts/${enc(rollout.id)}/${action}`, { reason }),
      ),
  }, `${action[0].toUpperCase()}${action.slice(1)}`);
}

/** A labelled seq input whose submit calls `onSeq(seq)`. */
function seqForm(id, label, onSeq) {
  const input = h('input', { id, type: 'number', min: 1, step: 1, required: true, inputmode: 'numeric' });
  return h('form', { class: 'inline', onsubmit: (e) => { e.preventDefault(); onSeq(Number(input.value)); } },
    h('label', { for: id }, label), input, h('button', { type: 'submit' }, 'Go'));
}

// ---- pages ---------------------------------------------------------------------------------

function table(headers, rows) {
  return h('table', {},
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.length === 0 ? h('tr', {}, h('td', { colspan: headers.length }, 'None.')) :
      rows.map((cells) => h('tr', {}, cells.map((c, i) => h('td', { 'data-label': headers[i] }, c))))));
}

const facts = (pairs) => h('dl', { class: 'facts' }, pairs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));

async function scopePage(view) {
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
    seqForm('rollback-seq', 'Roll back to seq', (seq) => rollback(seq, a.version)),
    seqForm('activate-seq', 'Activate seq', (seq) => activate(seq, a.version)),
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

async function historyPage(view) {
  const s = enc(scope());
  const [active, list] = await Promise.all([api('GET', `/v1/scopes/${s}/active`), api('GET', `/v1/scopes/${s}/generations?limit=100`)]);
  const a = active.body;
  const state = (g) => (g.seq === a.seq ? 'active' : g.failed ? 'failed' : g.seq === a.lkgSeq ? 'lkg' : '');
  view.append(h('h2', {}, `Generations of ${scope()}`), table(
    ['Seq', 'State', 'Created', 'Author', 'Reason', 'Digest', 'Size', 'Actions'],
    list.body.items.map((g) => [
      g.seq,
      state(g) ? h('span', { class: `tag state-${state(g)}`, title: g.failedReason ?? '' }, state(g)) : '—',
      when(g.createdAt), g.author, g.reason, h('code', { title: g.digest }, short(g.digest)), `${g.sizeBytes} B`,
      h('div', { class: 'actions' },
        g.seq === a.seq ? null : activateButton(g.seq, a.version),
        h('a', { href: `#/diff?from=${a.seq ?? ''}&to=${g.seq}` }, 'Diff vs active')),
    ]),
  ), ...(list.body.next ? [h('p', {}, `Showing the newest ${list.body.items.length}.`)] : []));
}

async function diffPage(view, params) {
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

async function fleetPage(view) {
  const nodes = (await api('GET', `/v1/nodes?scope=${enc(scope())}`)).body.items;
  const nack = (n) => (n.lastNack ? h('div', {}, `seq ${n.lastNack.seq} at ${n.lastNack.phase}${n.lastNack.retryable ? ' (retryable)' : ''}, ${when(n.lastNack.at)}`,
    h('ul', {}, n.lastNack.issues.map((i) => h('li', {}, h('code', {}, i.pointer), ` ${i.code}: ${i.message}`)))) : '—');
  view.append(h('h2', {}, `Fleet of ${scope()}`), table(['Node', 'State', 'Serving', 'Source', 'Labels', 'Last seen', 'Last NACK'], nodes.map((n) => [
    h('a', { href: `#/node?id=${enc(n.nodeId)}` }, h('code', {}, n.nodeId)), h('span', { class: `tag state-${n.state}` }, n.state),
    n.serving ? `seq ${n.serving.seq}` : 'nothing', n.source,
    Object.entries(n.labels).map(([k, v]) => h('span', { class: 'tag' }, `${k}=${v}`)), when(n.lastSeenAt), nack(n),
  ])));
}

async function nodePage(view, params) {
  const id = params.get('id') ?? '';
  const n = (await api('GET', `/v1/nodes/${enc(id)}`)).body;
  view.append(h('h2', {}, `Node ${n.nodeId}`), facts([
    ['State', h('span', { class: `tag state-${n.state}` }, n.state)], ['Scope', n.scope], ['Boot id', h('code', {}, n.bootId)],
    ['Serving', n.serving ? `seq ${n.serving.seq} (${short(n.serving.digest)}) from ${n.source}` : 'nothing'],
    ['Labels', Object.entries(n.labels).map(([k, v]) => h('span', { class: 'tag' }, `${k}=${v}`))],
    ['Schema', `${n.schemaMin}–${n.schemaMax}`], ['Build', n.build], ['Connected', when(n.connectedAt)], ['Last seen', when(n.lastSeenAt)],
    ['Last ACK', n.lastAck ? `seq ${n.lastAck.seq}, ${when(n.lastAck.at)}` : '—'],
    ['Last NACK', n.lastNack ? `seq ${n.lastNack.seq} at ${n.lastNack.phase}: ${n.lastNack.issues.map((i) => `${i.pointer} ${i.code}`).join('; ')}` : '—'],
  ]), h('h3', {}, 'History'), table(['At', 'Event', 'Seq', 'Phase'], n.history.map((e) => [when(e.at), e.kind, e.seq ?? '—', e.phase ?? '—'])));
}

async function auditPage(view) {
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
    items = items.concat(res.items).slice(-MAX_EVENTS);
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

/** Parses SSE text (WHATWG rules: fields, blank-line dispatch, comments) from a streaming body. */
export async function* sseEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = { id: null, type: 'message', data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        if (event.data.length > 0) yield { id: event.id, type: event.type, data: event.data.join('\n') };
        event = { id: event.id, type: 'message', data: [] };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') event.data.push(val);
      else if (field === 'event') event.type = val;
      else if (field === 'id') event.id = val;
    }
  }
}

async function eventsPage(view) {
  const list = h('ol', { class: 'events', id: 'event-list', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const state = h('p', { id: 'event-state' }, 'Connecting…');
  view.append(h('h2', {}, `Live events of ${scope()}`), state, list);
  // Not awaited: the page counts as rendered while the stream runs (until the page changes).
  follow(list, state, pageAbort.signal);
}

async function follow(list, state, signal) {
  let lastId = null;
  // Reconnects after a dropped stream (bounded backoff), resuming after the last id seen.
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      const headers = { authorization: `Bearer ${token()}`, accept: 'text/event-stream' };
      if (lastId !== null) headers['last-event-id'] = lastId;
      const res = await fetch(`/v1/events?scope=${enc(scope())}`, { headers, credentials: 'omit', cache: 'no-store', signal });
      if (res.status === 410) lastId = null;
      if (!res.ok || !res.body) throw new ApiError(res.status, await res.json().catch(() => null));
      state.textContent = 'Connected; newest first.';
      attempt = 0;
      for await (const e of sseEvents(res.body)) {
        if (e.id !== null) lastId = e.id;
        let data = null;
        try { data = JSON.parse(e.data); } catch { data = e.data; }
        list.prepend(h('li', {}, h('span', { class: 'tag' }, e.type), ` ${when(data?.at)} `, h('code', {}, JSON.stringify(data?.data ?? data))));
        while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
      }
    } catch (err) {
      if (signal.aborted) return;
      state.textContent = `Stream interrupted (${err.message}); reconnecting…`;
      if (err.status === 401 || err.status === 403) return;
    }
    await new Promise((r) => setTimeout(r, Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5))));
  }
}

const PAGES = { scopes: scopePage, history: historyPage, diff: diffPage, fleet: fleetPage, node: nodePage, audit: auditPage, events: eventsPage };

// ---- shell ---------------------------------------------------------------------------------

function showLogin(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  $('login').hidden = false;
  $('forget-token').hidden = true;
  $('view').replaceChildren();
  if (message) say(message, true);
  $('token-input').focus();
}

async function render() {
  pageAbort.abort();
  pageAbort = new AbortController();
  const [route, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const name = PAGES[route] ? route : 'scopes';
  const section = name === 'node' ? 'fleet' : name;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('href') === `#/${section}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  $('scope-input').value = scope();
  if (!token()) return showLogin();
  $('login').hidden = true;
  $('forget-token').hidden = false;
  const view = $('view');
  const fresh = h('div', { 'data-page': name, 'aria-busy': 'true' });
  view.replaceChildren(fresh);
  document.title = `${name[0].toUpperCase()}${name.slice(1)} · Spooky console`;
  try {
    await PAGES[name](fresh, new URLSearchParams(query));
  } catch (err) {
    if (err.name === 'AbortError') return;
    fresh.append(h('p', { class: 'bad' }, `Could not load: ${err.message}`));
  } finally {
    fresh.setAttribute('aria-busy', 'false');
    fresh.dataset.loaded = 'true';
  }
}

function start() {
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const value = $('token-input').value.trim();
    if (value === '') return;
    sessionStorage.setItem(TOKEN_KEY, value);
    $('token-input').value = '';
    say('Token stored for this tab.');
    render().then(() => $('view').focus());
  });
  $('forget-token').addEventListener('click', () => {
    pageAbort.abort();
    showLogin();
    say('Token forgotten.');
  });
  $('scope-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const value = $('scope-input').value.trim();
    if (!SCOPE_PATTERN.test(value)) return say('A scope is [a-z0-9][a-z0-9-]{0,62}.', true);
    sessionStorage.setItem(SCOPE_KEY, value);
    render();
  });
  window.addEventListener('hashchange', () => {
    say('');
    render().then(() => $('view').focus());
  });
  render();
}

start();
