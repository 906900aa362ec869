// Spooky console: what the token may do, from GET /v1/whoami (asked once per page render, for
// the scope shown). Actions the token cannot take are disabled with the server's reason shown
// beside them; the server stays the authority (a 403 is still reported as a failure). When the
// control plane cannot answer (an older build), every action is offered and the server decides.

import { api, scope } from './api.js';
import { h } from './dom.js';

let current = null;

/** Asks the control plane; keeps the answer for `can`/`why` until the next refresh. */
export async function refreshPermissions(signal) {
  try {
    current = (await api('GET', `/v1/whoami?scope=${encodeURIComponent(scope())}`, { signal })).body;
  } catch (err) {
    if (err.name === 'AbortError' || err.status === 401) throw err;
    current = null;
  }
  return current;
}

export const whoami = () => current;

/** True when the token may take `action` (auth/action-permissions.ts names), or when unknown. */
export const can = (action) => current?.actions?.[action]?.allowed ?? true;

/** Why not (the server's words), or null when allowed. */
export const why = (action) => (can(action) ? null : current.actions[action].reason);

let noteIds = 0;

/**
 * `control` (a button, or a form whose controls are all disabled) as offered for `action`:
 * unchanged when allowed; otherwise disabled, with the reason beside it and linked to it
 * (aria-describedby), so keyboard and screen-reader users learn why too.
 */
export function guarded(action, control) {
  const reason = why(action);
  if (reason === null) return control;
  const id = `why-${++noteIds}`;
  const targets = control.tagName === 'FORM' ? [...control.querySelectorAll('input, button, textarea, select')] : [control];
  for (const el of targets) {
    el.disabled = true;
    el.setAttribute('aria-describedby', id);
  }
  control.dataset.denied = action;
  return h('span', { class: 'guarded' }, control, h('span', { class: 'why', id }, `Not offered: ${reason}.`));
}

/** A page-level note when `action` is refused (e.g. Activate in every row of the history). */
export function deniedNote(action, label) {
  const reason = why(action);
  return reason === null ? null : h('p', { class: 'why', 'data-denied': action }, `${label} is not offered: ${reason}.`);
}
