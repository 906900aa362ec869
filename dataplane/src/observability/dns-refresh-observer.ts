/**
 * Where backend DNS refresh results go (runtime/backend-dns-refresher.ts reports them):
 *   - `spooky_backend_dns_refreshes_total{result}` counts every lookup: `unchanged`, `changed`
 *     (that host's pools were re-created), `failed` (the last good set is kept);
 *   - one log line per change of a name's state, never per round: `warn` when it starts
 *     failing (with the error code), `info` when it recovers or its address set changes.
 * Host names and resolved addresses are not secrets; nothing else is logged.
 */
import type pino from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { DnsRefreshReport } from '../runtime/backend-dns-refresher.ts';

export function dnsRefreshObserver(logger: pino.Logger, registry: Registry): (report: DnsRefreshReport) => void {
  const refreshes = new Counter({
    name: 'spooky_backend_dns_refreshes_total',
    help: 'Backend host name re-resolutions (performance.backend_dns_refresh_enabled), by result: unchanged, changed (pools re-created), failed (last good set kept).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const byResult = { unchanged: refreshes.labels({ result: 'unchanged' }), changed: refreshes.labels({ result: 'changed' }), failed: refreshes.labels({ result: 'failed' }) };
  return (report) => {
    byResult[report.result].inc();
    if (!report.stateChanged) return;
    const { host, addresses, error } = report;
    if (report.result === 'failed') logger.warn({ host, error, addresses }, 'backend DNS refresh failed: keeping the last good addresses');
    else if (report.result === 'changed') logger.info({ host, addresses }, 'backend addresses changed: pools of this host re-created');
    else logger.info({ host, addresses }, 'backend DNS refresh recovered');
  };
}
