/**
 * How the kernel spread a run's QUIC connections over the data plane's workers, from the
 * access log: every request of a `tagConnections` workload has `?c=<tag>` in its path, and
 * every access-log line carries the serving process's `pid`.
 */

export interface ConnectionSpread {
  /** Worker pid → connections whose requests it served. */
  readonly connectionsByPid: ReadonlyMap<number, number>;
  /** Worker pid → requests it served (tagged ones). */
  readonly requestsByPid: ReadonlyMap<number, number>;
  /** Connections seen on more than one worker (a QUIC connection should stay on one). */
  readonly split: number;
}

export function connectionSpread(log: string): ConnectionSpread {
  const pidsByConn = new Map<string, Set<number>>();
  const requestsByPid = new Map<number, number>();
  for (const line of log.split('\n')) {
    const tag = /[?&]c=([\w-]+)/.exec(line);
    const pid = /"pid":(\d+)/.exec(line);
    if (!tag || !pid) continue;
    const p = Number(pid[1]);
    const set = pidsByConn.get(tag[1]!) ?? new Set<number>();
    pidsByConn.set(tag[1]!, set);
    set.add(p);
    requestsByPid.set(p, (requestsByPid.get(p) ?? 0) + 1);
  }
  const connectionsByPid = new Map<number, number>();
  let split = 0;
  for (const pids of pidsByConn.values()) {
    if (pids.size > 1) split++;
    for (const p of pids) connectionsByPid.set(p, (connectionsByPid.get(p) ?? 0) + 1);
  }
  return { connectionsByPid, requestsByPid, split };
}
