/**
 * Entry script of one fleet node (netns-fleet.ts), run as
 *   unshare -n node netns-node.ts '<json NetnsNodeSpec>' <node> <data-plane main> <flags…>
 * so it starts alone in a fresh network namespace with its own 127.0.0.1. It brings lo up,
 * starts the in-namespace bridges (outbound: TCP ports the data plane dials — the control plane,
 * the origins — to unix sockets served by the test process; inbound: unix sockets the test
 * dials to the data plane's listener and admin ports), logs one JSON line
 * `{"msg":"netns node ready"}`, then spawns the data plane with this process's stdout/stderr
 * (its log lines reach the test unchanged) and forwards SIGTERM/SIGINT to it. It exits when the
 * data plane exits, with its code (128 + signal number when signalled).
 *
 * Stopping this process (SIGSTOP) wedges the node's network: control traffic and client
 * traffic both pass through its bridges, while the data plane itself keeps running.
 */
import { execFileSync, spawn } from 'node:child_process';
import { constants } from 'node:os';
import { type Bridge, ROTATING_SOURCES, tcpToUnix, unixToTcp } from './unix-bridge.ts';

export interface NetnsNodeSpec {
  /** In-namespace TCP ports on 127.0.0.1 forwarded to unix sockets (served outside). */
  readonly outbound: ReadonlyArray<{ readonly port: number; readonly socket: string }>;
  /** Unix sockets (made here) forwarded to in-namespace TCP ports on 127.0.0.1. */
  readonly inbound: ReadonlyArray<{ readonly socket: string; readonly port: number; readonly rotateSources?: boolean }>;
}

async function main(): Promise<void> {
  const [spec, command, ...args] = process.argv.slice(2);
  if (spec === undefined || command === undefined) throw new Error('usage: netns-node.ts <json spec> <command> [args…]');
  const parsed = JSON.parse(spec) as NetnsNodeSpec;
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  const bridges: Bridge[] = [];
  for (const o of parsed.outbound) bridges.push(await tcpToUnix('127.0.0.1', o.port, o.socket));
  for (const i of parsed.inbound) bridges.push(await unixToTcp(i.socket, '127.0.0.1', i.port, i.rotateSources ? ROTATING_SOURCES : []));
  process.stdout.write(`${JSON.stringify({ msg: 'netns node ready', pid: process.pid })}\n`);

  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => child.kill(signal));
  child.once('exit', (code, signal) => {
    void Promise.all(bridges.map((b) => b.close())).finally(() => {
      process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`netns-node: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(70);
});
