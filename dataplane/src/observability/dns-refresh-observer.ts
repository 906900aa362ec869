/**
 * Where backend DNS refresh results go (runtime/backend-dns-refresher.ts reports them):
 *   - every lookup counts in `spooky_backend_dns_refresh_success_total` or
 *     `spooky_backend_dns_refresh_failure_total` (the last good set is kept), and a lookup that
 *     changed the address set (that host's pools were re-created) also in
 *     `spooky_backend_dns_address_set_changes_total` (the Rust Spooky's names);
 *   - one log line per change of a name's state, never per round: `warn` when it starts
 *     failing (with the error code), `info` when it recovers or its address set changes.
 * Host names and resolved addresses are not secrets; nothing else is logged.
 */
import type pino from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { DnsRefreshReport } from '../runtime/backend-dns-refresher.ts';

export function dnsRefreshObserver(logger: pino.Logger, registry: Registry): (report: DnsRefreshReport) => void {
  const counter = (name: string, help: string): Counter => new Counter({ name, help, registers: [registry] });
  const success = counter('spooky_backend_dns_refresh_success_total', 'Backend host name re-resolutions that answered (performance.backend_dns_refresh_enabled), the address set changed or not.');
  const failure = counter('spooky_backend_dns_refresh_failure_total', 'Backend host name re-resolutions that failed (the last good address set is kept).');
  const changes = counter('spooky_backend_dns_address_set_changes_total', "Re-resolutions that changed a host's address set (that host's pools were re-created).");
  return (report) => {
    if (report.result === 'failed') failure.inc();
    else success.inc();
    if (report.result === 'changed') changes.inc();
    if (!report.stateChanged) return;
    const { host, addresses, error } = report;
    if (report.result === 'failed') logger.warn({ host, error, addresses }, 'backend DNS refresh failed: keeping the last good addresses');
    else if (report.result === 'changed') logger.info({ host, addresses }, 'backend addresses changed: pools of this host re-created');
    else logger.info({ host, addresses }, 'backend DNS refresh recovered');
  };
}
