// Spooky console: building page content. Text is set with textContent / text nodes only (never
// innerHTML): config values, reasons and labels cannot inject markup.

export const $ = (id) => document.getElementById(id);

/** An element with attributes (`on*` functions become listeners) and text or element children. */
export function h(tag, attrs = {}, ...children) {
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

export const enc = encodeURIComponent;
export const short = (digest) => (typeof digest === 'string' ? digest.replace(/^sha256:/, '').slice(0, 12) : '—');
export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
export const json = (v) => (v === undefined ? '—' : JSON.stringify(v, null, 2));

/** The polite status line under the header (errors in bold, in the error colour). */
export function say(text, error = false) {
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('error', error);
}

/** A table whose cells carry their column name (`data-label`: the one-column phone layout shows it). */
export function table(headers, rows) {
  return h('table', {},
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.length === 0 ? h('tr', {}, h('td', { colspan: headers.length }, 'None.')) :
      rows.map((cells) => h('tr', {}, cells.map((c, i) => h('td', { 'data-label': headers[i] }, c))))));
}

export const facts = (pairs) => h('dl', { class: 'facts' }, pairs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));

export const labelTags = (labels) => Object.entries(labels).map(([k, v]) => h('span', { class: 'tag' }, `${k}=${v}`));
