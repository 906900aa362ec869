import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ROLLOUT_WAIT_MS, DEFAULT_SERVER, DEFAULT_WAIT_TIMEOUT_MS, parseInvocation } from './args.ts';
import { CliError } from './cli-error.ts';
import { parseDuration } from './duration.ts';

const parse = (argv: string[], env: Record<string, string> = {}) => parseInvocation(argv, env);

function usageError(argv: string[], pattern: RegExp): void {
  assert.throws(
    () => parse(argv),
    (err: unknown) => err instanceof CliError && err.code === 'usage' && err.exitCode === 1 && pattern.test(err.message),
  );
}

describe('parseInvocation', () => {
  it('globals: defaults, environment, flags win over environment, anywhere on the line', () => {
    const plain = parse(['status']);
    const noTls = { caFile: null, certFile: null, keyFile: null };
    assert.deepEqual(plain.globals, { server: DEFAULT_SERVER, token: null, scope: 'default', json: false, idempotencyKey: null, tls: noTls });
    const env = parse(['status'], { SPOOKY_SERVER: 'http://cp:9000/', SPOOKY_TOKEN: 't-env', SPOOKY_SCOPE: 'prod-eu' });
    assert.deepEqual(env.globals, { server: 'http://cp:9000', token: 't-env', scope: 'prod-eu', json: false, idempotencyKey: null, tls: noTls });
    const flags = parse(['--json', 'status', '--server', 'https://x.example', '--token', 't-flag', '--scope', 'edge'], { SPOOKY_TOKEN: 't-env' });
    assert.equal(flags.globals.server, 'https://x.example');
    assert.equal(flags.globals.token, 't-flag');
    assert.equal(flags.globals.scope, 'edge');
    assert.equal(flags.globals.json, true);
  });

  it('TLS trust: --ca-file, --cert with --key, from flags or the environment', () => {
    assert.deepEqual(parse(['status', '--ca-file', 'ca.pem', '--server', 'https://cp:8443']).globals.tls, { caFile: 'ca.pem', certFile: null, keyFile: null });
    assert.deepEqual(parse(['--cert', 'c.pem', 'history', '--key', 'k.pem']).globals.tls, { caFile: null, certFile: 'c.pem', keyFile: 'k.pem' });
    const env = { SPOOKY_CA_FILE: 'eca.pem', SPOOKY_CLIENT_CERT: 'ec.pem', SPOOKY_CLIENT_KEY: 'ek.pem' };
    assert.deepEqual(parse(['status'], env).globals.tls, { caFile: 'eca.pem', certFile: 'ec.pem', keyFile: 'ek.pem' });
    assert.equal(parse(['status', '--ca-file', 'f.pem'], env).globals.tls.caFile, 'f.pem', 'the flag wins');
    assert.equal(parse(['status'], { SPOOKY_CA_FILE: '' }).globals.tls.caFile, null, 'empty = unset');
    usageError(['status', '--cert', 'c.pem'], /^--cert needs --key FILE/);
    usageError(['status', '--key', 'k.pem'], /^--key needs --cert FILE/);
  });

  it('tokens list', () => {
    assert.deepEqual(parse(['tokens', 'list', '--file', 't.json']).command, { kind: 'tokens-list', file: 't.json' });
    usageError(['tokens', 'list'], /--file is required/);
    usageError(['tokens', 'list', '--file', 't.json', '--name', 'x'], /does not take --name/);
  });

  it('config commands', () => {
    assert.deepEqual(parse(['validate', 'a.yaml']).command, { kind: 'validate', file: 'a.yaml', offline: false });
    assert.deepEqual(parse(['validate', 'a.yaml', '--offline']).command, { kind: 'validate', file: 'a.yaml', offline: true });
    assert.deepEqual(parse(['lint', 'a.yaml']).command, { kind: 'validate', file: 'a.yaml', offline: true });
    usageError(['lint', 'a.yaml', '--offline'], /lint does not take --offline/);
    usageError(['plan', 'a.yaml', '--offline'], /plan does not take --offline/);
    usageError(['lint'], /lint takes one FILE/);
    assert.deepEqual(parse(['plan', 'a.yaml', '--detailed-exitcode']).command, { kind: 'plan', file: 'a.yaml', detailedExitcode: true });
    assert.deepEqual(parse(['push', 'a.json', '--reason', ' ship it ']).command, {
      kind: 'push',
      file: 'a.json',
      reason: 'ship it',
      activate: false,
      wait: null,
    });
    assert.deepEqual(parse(['push', 'a.json', '--reason', 'r', '--activate', '--wait', '--timeout', '90s']).command, {
      kind: 'push',
      file: 'a.json',
      reason: 'r',
      activate: true,
      wait: { timeoutMs: 90_000, minNodes: 0, requireNodes: [] },
    });
  });

  it('activate and rollback', () => {
    assert.deepEqual(parse(['activate', '7', '--reason', 'r', '--wait']).command, {
      kind: 'activate',
      seq: 7,
      reason: 'r',
      wait: { timeoutMs: DEFAULT_WAIT_TIMEOUT_MS, minNodes: 0, requireNodes: [] },
      force: false,
      dryRun: false,
      ifMatch: null,
      strategy: null,
      policyFile: null,
      abortLive: false,
    });
    const full = parse(['activate', '7', '--reason', 'r', '--force', '--dry-run', '--if-match', '"4"']).command;
    assert.equal(full.kind === 'activate' && full.force && full.dryRun && full.ifMatch, 4);
    for (const to of ['previous', 'lkg'] as const) {
      assert.deepEqual(parse(['rollback', '--to', to, '--reason', 'r']).command, { kind: 'rollback', to, reason: 'r', wait: null, force: false, ifMatch: null, abortLive: false });
    }
    const seq = parse(['rollback', '--to', '3', '--reason', 'r', '--wait', '--timeout', '500ms']).command;
    assert.deepEqual(seq, { kind: 'rollback', to: 3, reason: 'r', wait: { timeoutMs: 500, minNodes: 0, requireNodes: [] }, force: false, ifMatch: null, abortLive: false });
    const need = parse(['rollback', '--to', 'previous', '--reason', 'r', '--wait', '--min-nodes', '2', '--require-nodes', 'edge-1, edge-2,edge-1']).command;
    assert.deepEqual(need.kind === 'rollback' && need.wait, { timeoutMs: DEFAULT_WAIT_TIMEOUT_MS, minNodes: 2, requireNodes: ['edge-1', 'edge-2'] });
    const pushNeed = parse(['push', 'a.yaml', '--reason', 'r', '--activate', '--wait', '--min-nodes', '1']).command;
    assert.equal(pushNeed.kind === 'push' && pushNeed.wait?.minNodes, 1);
    const forced = parse(['rollback', '--to', '3', '--reason', 'r', '--force', '--if-match', '9']).command;
    assert.equal(forced.kind === 'rollback' && forced.force && forced.ifMatch, 9);
  });

  it('staged rollouts: activate --staged, rollout, policy, unfreeze', () => {
    const staged = parse(['activate', '7', '--staged', '--policy', 'p.yaml', '--abort-live', '--reason', 'r', '--wait']).command;
    assert.ok(staged.kind === 'activate');
    assert.equal(staged.strategy, 'staged');
    assert.equal(staged.policyFile, 'p.yaml');
    assert.equal(staged.abortLive, true);
    assert.equal(staged.wait?.timeoutMs, DEFAULT_ROLLOUT_WAIT_MS, 'a rollout wait defaults to 30 minutes');
    const immediate = parse(['activate', '7', '--immediate', '--reason', 'r']).command;
    assert.equal(immediate.kind === 'activate' && immediate.strategy, 'immediate');
    assert.deepEqual(parse(['rollout', 'wait', 'ro-1', '--timeout', '2m']).command, {
      kind: 'rollout',
      action: 'wait',
      id: 'ro-1',
      limit: null,
      timeoutMs: 120_000,
      reason: null,
    });
    const pause = parse(['rollout', 'pause', 'ro-1', '--reason', 'hold']).command;
    assert.equal(pause.kind === 'rollout' && pause.reason, 'hold');
    const list = parse(['rollout', 'list', '--limit', '5']).command;
    assert.equal(list.kind === 'rollout' && list.limit, 5);
    assert.deepEqual(parse(['policy', 'get']).command, { kind: 'policy-get' });
    assert.deepEqual(parse(['policy', 'set', 'p.yaml', '--reason', 'r', '--if-match', '"3"']).command, {
      kind: 'policy-set',
      file: 'p.yaml',
      reason: 'r',
      ifMatch: 3,
    });
    assert.deepEqual(parse(['unfreeze', '--reason', 'ok']).command, { kind: 'unfreeze', reason: 'ok' });
    for (const bad of [
      ['activate', '7', '--staged', '--immediate', '--reason', 'r'],
      ['activate', '7', '--policy', 'p.yaml', '--reason', 'r'],
      ['activate', '7', '--staged', '--force', '--reason', 'r'],
      ['activate', '7', '--staged', '--wait', '--min-nodes', '2', '--reason', 'r'],
      ['rollout', 'get'],
      ['rollout', 'abort', 'ro-1'],
      ['rollout', 'bogus', 'ro-1'],
      ['rollout', 'get', 'ro-1', '--reason', 'r'],
      ['unfreeze'],
    ]) {
      assert.throws(() => parse(bad), (err: CliError) => err.exitCode === 1, bad.join(' '));
    }
  });

  it('read-only commands', () => {
    assert.deepEqual(parse(['status']).command, { kind: 'status' });
    assert.deepEqual(parse(['nodes']).command, { kind: 'nodes' });
    const plainDiff = { requests: null, detailedExitcode: false };
    assert.deepEqual(parse(['diff', 'active', '4']).command, { kind: 'diff', from: 'active', to: 4, ...plainDiff });
    assert.deepEqual(parse(['diff', '2', '4']).command, { kind: 'diff', from: 2, to: 4, ...plainDiff });
    assert.deepEqual(parse(['diff', '2', 'active']).command, { kind: 'diff', from: 2, to: 'active', ...plainDiff });
    assert.deepEqual(parse(['diff', '2', '4', '--requests', 'samples.json', '--detailed-exitcode']).command, {
      kind: 'diff',
      from: 2,
      to: 4,
      requests: 'samples.json',
      detailedExitcode: true,
    });
    assert.deepEqual(parse(['history', '--limit', '5']).command, { kind: 'history', limit: 5 });
    assert.deepEqual(parse(['history']).command, { kind: 'history', limit: null });
    assert.deepEqual(parse(['audit', 'verify']).command, { kind: 'audit-verify' });
    assert.deepEqual(parse(['help']).command, { kind: 'help' });
    assert.deepEqual(parse(['push', '--help']).command, { kind: 'help' });
  });

  it('tokens', () => {
    assert.deepEqual(
      parse(['tokens', 'create', '--name', 'ci', '--permissions', 'config:read, config:write', '--scopes', 'prod,edge', '--expires', '2027-01-01T00:00:00Z', '--file', 't.json']).command,
      { kind: 'tokens-create', name: 'ci', permissions: ['config:read', 'config:write'], scopes: ['prod', 'edge'], expiresAt: '2027-01-01T00:00:00.000Z', file: 't.json' },
    );
    assert.deepEqual(parse(['tokens', 'revoke', '--name', 'ci', '--file', 't.json']).command, { kind: 'tokens-revoke', name: 'ci', file: 't.json' });
  });

  it('usage errors (exit 1), never a guess', () => {
    usageError([], /no command/);
    usageError(['deploy'], /unknown command: deploy/);
    usageError(['audit', 'purge'], /unknown command: audit purge/);
    usageError(['validate'], /one FILE/);
    usageError(['validate', 'a', 'b'], /one FILE/);
    usageError(['push', 'a.yaml'], /--reason is required/);
    usageError(['push', 'a.yaml', '--reason', '  '], /--reason is required/);
    usageError(['push', 'a.yaml', '--reason', 'r', '--wait'], /only with --activate/);
    usageError(['activate', '0', '--reason', 'r'], /positive integer/);
    usageError(['activate', 'x', '--reason', 'r'], /positive integer/);
    usageError(['activate', '3', '--reason', 'r', '--timeout', '5s'], /--timeout needs --wait/);
    usageError(['activate', '3', '--reason', 'r', '--wait', '--timeout', 'soon'], /not a duration/);
    usageError(['activate', '3', '--reason', 'r', '--min-nodes', '1'], /--min-nodes needs --wait/);
    usageError(['rollback', '--to', 'lkg', '--reason', 'r', '--require-nodes', 'a'], /--require-nodes needs --wait/);
    usageError(['activate', '3', '--reason', 'r', '--wait', '--min-nodes=-1'], /--min-nodes must be a number/);
    usageError(['activate', '3', '--reason', 'r', '--wait', '--min-nodes', 'two'], /--min-nodes must be a number/);
    usageError(['activate', '3', '--reason', 'r', '--wait', '--require-nodes', ' , '], /--require-nodes takes node ids/);
    usageError(['push', 'a.yaml', '--reason', 'r', '--min-nodes', '1'], /only with --activate/);
    usageError(['status', '--min-nodes', '1'], /status does not take --min-nodes/);
    usageError(['activate', '3', '--reason', 'r', '--if-match', 'abc'], /--if-match/);
    usageError(['status', '--reason', 'r'], /status does not take --reason/);
    usageError(['validate', 'a', '--detailed-exitcode'], /validate does not take --detailed-exitcode/);
    usageError(['rollback', '--reason', 'r'], /--to/);
    usageError(['rollback', '--to', 'yesterday', '--reason', 'r'], /--to must be a positive integer/);
    usageError(['status', '--bogus'], /bogus/);
    usageError(['status', '--scope', 'Prod'], /--scope/);
    usageError(['status', '--server', 'ftp://x'], /http/);
    usageError(['history', '--limit', '500'], /at most 100/);
    usageError(['tokens', 'create', '--name', 'ci', '--permissions', 'admin', '--scopes', '*', '--file', 't', '--expires', 'tomorrow'], /--expires/);
    usageError(['tokens', 'create', '--name', 'ci', '--scopes', '*', '--file', 't'], /--permissions is required/);
  });
});

describe('parseDuration', () => {
  it('reads ms, s, m, h and bare seconds', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('60s'), 60_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('45'), 45_000);
    assert.equal(parseDuration('-1s'), null);
    assert.equal(parseDuration('1d'), null);
    assert.equal(parseDuration(''), null);
  });
});
