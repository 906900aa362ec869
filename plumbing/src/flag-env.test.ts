import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flagEnv } from './flag-env.ts';

const OPTIONS = { db: { type: 'string' }, 'log-level': { type: 'string' }, 'allow-insecure-http': { type: 'boolean' }, label: { type: 'string', multiple: true } } as const;
const { envNameOf, mergeEnvFallbacks, sourceName } = flagEnv('SPOOKY_CP');

describe('flag environment fallback rules', () => {
  it('names: the prefix + _ + the flag in upper snake case; errors name the source of the value', () => {
    assert.equal(flagEnv('SPOOKY_DP').envNameOf('cache-max-age'), 'SPOOKY_DP_CACHE_MAX_AGE');
    assert.equal(envNameOf('report-interval-ms'), 'SPOOKY_CP_REPORT_INTERVAL_MS');
    assert.equal(envNameOf('db'), 'SPOOKY_CP_DB');
    assert.equal(sourceName('db', new Set(['db'])), 'SPOOKY_CP_DB');
    assert.equal(sourceName('db', new Set()), '--db');
  });

  it('fills what the command line left out, and records which values came from a variable', () => {
    const r = mergeEnvFallbacks({ db: 'flag.db' }, OPTIONS, { SPOOKY_CP_DB: 'env.db', SPOOKY_CP_LOG_LEVEL: 'debug', SPOOKY_CP_ALLOW_INSECURE_HTTP: 'true' });
    assert.ok(r.ok);
    assert.deepEqual(r.values, { db: 'flag.db', 'log-level': 'debug', 'allow-insecure-http': true });
    assert.deepEqual([...r.fromEnv].sort(), ['allow-insecure-http', 'log-level']);
  });

  it('the flag wins: its variable is not read, not even checked', () => {
    const r = mergeEnvFallbacks({ 'allow-insecure-http': true }, OPTIONS, { SPOOKY_CP_ALLOW_INSECURE_HTTP: 'maybe' });
    assert.ok(r.ok);
    assert.equal(r.values['allow-insecure-http'], true);
    assert.equal(r.fromEnv.size, 0);
  });

  it('an empty variable is unset; a switch takes 1/true (on) and 0/false (off), anything else is an error naming it', () => {
    const off = mergeEnvFallbacks({}, OPTIONS, { SPOOKY_CP_DB: '', SPOOKY_CP_ALLOW_INSECURE_HTTP: '0' });
    assert.ok(off.ok);
    assert.deepEqual([off.values, off.fromEnv.size], [{}, 0]);
    for (const [text, on] of [['1', true], ['true', true], ['false', undefined], ['', undefined]] as const) {
      const r = mergeEnvFallbacks({}, OPTIONS, { SPOOKY_CP_ALLOW_INSECURE_HTTP: text });
      assert.ok(r.ok);
      assert.equal(r.values['allow-insecure-http'], on, text);
    }
    for (const text of ['yes', 'on', 'TRUE', ' 1']) {
      const r = mergeEnvFallbacks({}, OPTIONS, { SPOOKY_CP_ALLOW_INSECURE_HTTP: text });
      assert.deepEqual(r, { ok: false, error: `SPOOKY_CP_ALLOW_INSECURE_HTTP must be 1, true, 0 or false (got ${JSON.stringify(text)})` });
    }
  });

  it('a repeatable flag takes a comma-separated list (blank items dropped); a flag given replaces the whole list', () => {
    const r = mergeEnvFallbacks({}, OPTIONS, { SPOOKY_CP_LABEL: 'zone=a, rack=r1,,' });
    assert.ok(r.ok);
    assert.deepEqual(r.values['label'], ['zone=a', 'rack=r1']);
    const blank = mergeEnvFallbacks({}, OPTIONS, { SPOOKY_CP_LABEL: ' , ' });
    assert.ok(blank.ok);
    assert.deepEqual([blank.values['label'], blank.fromEnv.size], [undefined, 0]);
    const flag = mergeEnvFallbacks({ label: ['zone=b'] }, OPTIONS, { SPOOKY_CP_LABEL: 'zone=a' });
    assert.ok(flag.ok);
    assert.deepEqual(flag.values['label'], ['zone=b']);
  });

  it('prefixes are independent: one plane never reads the other plane\'s variables', () => {
    const r = flagEnv('SPOOKY_DP').mergeEnvFallbacks({}, OPTIONS, { SPOOKY_CP_DB: 'cp.db' });
    assert.ok(r.ok);
    assert.deepEqual(r.values, {});
  });
});
