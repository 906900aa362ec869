// Spooky operator console: plain ES modules, no dependencies, no build step (issue 13). This
// module is the shell: sign-in, the scope form, the hash router, and the page frame. Contract:
// every call goes to the REST API (api.js) with the token from sessionStorage; every change
// goes through the confirmation dialog with a required reason (actions.js); actions the
// token may not take are disabled with the reason shown (permissions.js, GET /v1/whoami); a
// page the token may not read says which permission it needs instead of failing.

import { setRerender } from './actions.js';
import { forgetToken, newPage, SCOPE_PATTERN, scope, setUnauthorizedHandler, storeScope, storeToken, token } from './api.js';
import { auditPage } from './audit-page.js';
import { diffPage } from './diff-page.js';
import { $, h, say } from './dom.js';
import { eventsPage } from './events-page.js';
import { fleetPage, nodePage } from './fleet-pages.js';
import { historyPage } from './history-page.js';
import { refreshPermissions, why } from './permissions.js';
import { scopePage } from './scope-page.js';

/** Each page and the action (auth/action-permissions.ts) it needs to read what it shows. */
const PAGES = {
  scopes: [scopePage, 'config.read'],
  history: [historyPage, 'config.read'],
  diff: [diffPage, 'config.read'],
  fleet: [fleetPage, 'fleet.read'],
  node: [nodePage, 'fleet.read'],
  audit: [auditPage, 'audit.read'],
  events: [eventsPage, 'fleet.read'],
};

function showLogin(message) {
  forgetToken();
  $('login').hidden = false;
  $('forget-token').hidden = true;
  $('whoami').textContent = '';
  $('view').replaceChildren();
  if (message) say(message, true);
  $('token-input').focus();
}

async function render() {
  const signal = newPage();
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
  const [page, needs] = PAGES[name];
  try {
    const me = await refreshPermissions(signal);
    $('whoami').textContent = me ? `Token ${me.name}` : '';
    const denied = why(needs);
    if (denied !== null) fresh.append(h('p', { class: 'why', 'data-denied': needs }, `This page is not available: ${denied}.`));
    else await page(fresh, new URLSearchParams(query), render);
  } catch (err) {
    if (err.name === 'AbortError') return;
    fresh.append(h('p', { class: 'bad' }, `Could not load: ${err.message}`));
  } finally {
    fresh.setAttribute('aria-busy', 'false');
    fresh.dataset.loaded = 'true';
  }
}

function start() {
  setUnauthorizedHandler(showLogin);
  setRerender(render);
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const value = $('token-input').value.trim();
    if (value === '') return;
    storeToken(value);
    $('token-input').value = '';
    say('Token stored for this tab.');
    render().then(() => $('view').focus());
  });
  $('forget-token').addEventListener('click', () => {
    newPage();
    showLogin();
    say('Token forgotten.');
  });
  $('scope-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const value = $('scope-input').value.trim();
    if (!SCOPE_PATTERN.test(value)) return say('A scope is [a-z0-9][a-z0-9-]{0,62}.', true);
    storeScope(value);
    render();
  });
  window.addEventListener('hashchange', () => {
    say('');
    render().then(() => $('view').focus());
  });
  render();
}

start();
