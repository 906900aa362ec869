import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMMAND_OPTIONS, parseInvocation } from './args.ts';
import { EXIT } from './exit-codes.ts';
import { COMMAND_HELP, helpDocument } from './help-document.ts';
import { runCli } from './run-cli.ts';
import { USAGE } from './usage.ts';

test('help --json lists every command the parser knows, each with a summary', () => {
  const doc = helpDocument();
  assert.deepEqual(doc.commands.map((c) => c.name).sort(), Object.keys(COMMAND_OPTIONS).sort());
  assert.deepEqual(Object.keys(COMMAND_HELP).sort(), Object.keys(COMMAND_OPTIONS).sort());
  for (const c of doc.commands) {
    assert.ok(c.summary.length > 0, `${c.name} has a summary`);
    assert.ok(USAGE.includes(c.name.split(' ')[0] as string), `${c.name} is in the text help too`);
  }
  assert.deepEqual(doc.exitCodes, { ...EXIT });
});

test('every option help --json lists is one the parser accepts for that command', () => {
  const doc = helpDocument();
  const env = { SPOOKY_SERVER: undefined };
  for (const c of doc.commands) {
    for (const o of c.options) {
      const argv = [...c.name.split(' '), o.name, ...(o.type === 'string' ? ['1'] : [])];
      try {
        parseInvocation(argv, env);
      } catch (err) {
        assert.doesNotMatch((err as Error).message, /does not take/, `${c.name} ${o.name}`);
      }
    }
  }
  const validate = doc.commands.find((c) => c.name === 'validate');
  assert.deepEqual(validate?.options, [{ name: '--offline', type: 'boolean' }]);
  const globals = new Map(doc.globalOptions.map((o) => [o.name, o]));
  assert.equal(globals.get('--token')?.env, 'SPOOKY_TOKEN');
  assert.equal(globals.get('--json')?.type, 'boolean');
});

test('runCli help --json writes one JSON document and exits 0; help without --json the text', async () => {
  const out: string[] = [];
  const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(`ERR ${t}`) };
  assert.equal(await runCli(['help', '--json'], {}, io), EXIT.ok);
  assert.equal(out.length, 1);
  const parsed = JSON.parse(out[0] as string) as { commands: { name: string }[] };
  assert.ok(parsed.commands.some((c) => c.name === 'lint'));
  out.length = 0;
  assert.equal(await runCli(['--help'], {}, io), EXIT.ok);
  assert.equal(out[0], USAGE);
});
