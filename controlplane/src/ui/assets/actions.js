// Spooky console: the changes an operator makes (activate, roll back, rollout controls). Each
// goes through the confirmation dialog, which requires a reason (sent as Spooky-Change-Reason
// and recorded in the audit log); each button is offered only when the token may take the
// action (permissions.js), and a refusal by the server is still reported.

import { api, scope } from './api.js';
import { $, enc, h, say } from './dom.js';
import { guarded } from './permissions.js';

let rerender = async () => {};
/** What runs after an action, whatever its outcome (the shell re-renders the page). */
export function setRerender(fn) {
  rerender = fn;
}

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

/** Confirms, runs `call(reason)`, reports the outcome (a 403 included) and re-renders the page. */
async function act(title, text, call) {
  const reason = await confirmAction(title, text);
  if (reason === null) return say('Cancelled; nothing changed.');
  try {
    const result = await call(reason);
    say(`${title}: done.${describeMove(result?.body)}`);
  } catch (err) {
    const denied = err.status === 403 ? ' The token may not do this.' : '';
    say(`${title} failed: ${err.message}.${denied}`, true);
  }
  await rerender();
}

function describeMove(body) {
  if (!body?.active) return '';
  return ` Active is now seq ${body.active.seq} (version ${body.active.version})${body.moved === false ? '; nothing moved' : ''}.`;
}

/** Activates `seq` (If-Match: the pointer version the page showed, so a stale page gets 412). */
export function activate(seq, version) {
  return act('Activate', `Make seq ${seq} the active generation of scope ${scope()}? Traffic moves once the fleet applies it.`, (reason) =>
    api('PUT', `/v1/scopes/${enc(scope())}/active`, { body: { seq }, reason, ifMatch: `"${version}"` }),
  );
}

/** Rolls back to 'previous', 'lkg' or a seq (If-Match as for activate). */
export function rollback(to, version) {
  const target = to === 'previous' ? 'the previous generation' : to === 'lkg' ? 'the last known good generation' : `seq ${to}`;
  return act('Roll back', `Roll scope ${scope()} back to ${target}?`, (reason) =>
    api('POST', `/v1/scopes/${enc(scope())}/rollback`, { body: { to }, reason, ifMatch: `"${version}"` }),
  );
}

/** A plain button (no reason note: the page shows one note for all rows, permissions.js deniedNote). */
export const activateButton = (seq, version, allowed) =>
  h('button', { type: 'button', 'data-action': `activate-${seq}`, disabled: !allowed, onclick: () => activate(seq, version) }, `Activate seq ${seq}`);

export const rollbackButton = (to, label, version) =>
  guarded('rollback', h('button', { type: 'button', class: 'danger', 'data-action': `rollback-${to}`, onclick: () => rollback(to, version) }, label));

const title = (action) => `${action[0].toUpperCase()}${action.slice(1)}`;

export function rolloutButton(rollout, action) {
  return guarded(`rollout.${action}`, h('button', {
    type: 'button',
    class: action === 'abort' ? 'danger' : undefined,
    'data-action': `rollout-${action}`,
    onclick: () =>
      act(`Rollout ${action}`, `${title(action)} rollout ${rollout.id} (seq ${rollout.targetSeq}, ${rollout.status})?`, (reason) =>
        api('POST', `/v1/rollouts/${enc(rollout.id)}/${action}`, { reason }),
      ),
  }, title(action)));
}

/** A labelled seq input whose submit calls `onSeq(seq)`, offered only for `action`. */
export function seqForm(id, label, action, onSeq) {
  const input = h('input', { id, type: 'number', min: 1, step: 1, required: true, inputmode: 'numeric' });
  return guarded(action, h('form', { class: 'inline', onsubmit: (e) => { e.preventDefault(); onSeq(Number(input.value)); } },
    h('label', { for: id }, label), input, h('button', { type: 'submit' }, 'Go')));
}
