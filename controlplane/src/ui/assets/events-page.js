// Spooky console: the live event feed of the scope (GET /v1/events as a streaming fetch, so the
// token goes in a header, never a URL), newest first, resuming after a dropped stream.

import { ApiError, openEvents, pageSignal, scope } from './api.js';
import { h, when } from './dom.js';

const MAX_EVENTS = 200;

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

export async function eventsPage(view) {
  const list = h('ol', { class: 'events', id: 'event-list', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const state = h('p', { id: 'event-state' }, 'Connecting…');
  view.append(h('h2', {}, `Live events of ${scope()}`), state, list);
  // Not awaited: the page counts as rendered while the stream runs (until the page changes).
  follow(list, state, pageSignal());
}

async function follow(list, state, signal) {
  let lastId = null;
  // Reconnects after a dropped stream (bounded backoff), resuming after the last id seen.
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      const res = await openEvents(lastId, signal);
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
