// Container health check (Dockerfile HEALTHCHECK): GET $SPOOKY_HEALTH_URL, exit 0 on a 2xx answer
// within 4 s, else 1. An https URL is fetched without verifying the certificate: the check dials
// loopback inside the container, where the certificate's names (the service's) do not apply.
// Prints one line: the status, or why it failed — never a header or a body.
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';

const url = new URL(process.env.SPOOKY_HEALTH_URL ?? 'http://127.0.0.1:9901/ready');
const get = url.protocol === 'https:' ? httpsGet : httpGet;
const req = get(url, { rejectUnauthorized: false, timeout: 4000 }, (res) => {
  res.resume();
  const ok = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300;
  console.log(`${url.pathname}: ${res.statusCode}`);
  process.exitCode = ok ? 0 : 1;
});
req.on('timeout', () => req.destroy(new Error('timed out')));
req.on('error', (err) => {
  console.log(`${url.pathname}: ${err.message}`);
  process.exitCode = 1;
});
