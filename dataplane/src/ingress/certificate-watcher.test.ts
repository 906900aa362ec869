import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CertificateWatcher, type ChangeVerdict, fileSignature } from './certificate-watcher.ts';

describe('certificate watcher', () => {
  it('reports a file replaced by rename, does not retry a rejected state, retries a busy one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spooky-watch-'));
    const file = join(dir, 'cert.pem');
    writeFileSync(file, 'one');
    let loaded = new Map([[file, await fileSignature(file)]]);
    const verdicts: ChangeVerdict[] = [];
    let calls = 0;
    const watcher = new CertificateWatcher({
      loaded: () => loaded,
      onChange: async () => {
        calls++;
        return verdicts.shift() ?? 'applied';
      },
    });
    await watcher.poll();
    assert.equal(calls, 0, 'nothing changed');

    writeFileSync(`${file}.tmp`, 'two!');
    renameSync(`${file}.tmp`, file);
    verdicts.push('rejected');
    await watcher.poll();
    await watcher.poll();
    assert.equal(calls, 1, 'a rejected state is not retried until the file changes again');

    writeFileSync(file, 'three');
    verdicts.push('busy');
    await watcher.poll();
    await watcher.poll();
    assert.equal(calls, 3, 'busy is retried at the next poll');
    loaded = new Map([[file, await fileSignature(file)]]); // what a successful reload records
    await watcher.poll();
    assert.equal(calls, 3);
  });

  it('a missing file has a signature of its own', async () => {
    assert.equal(await fileSignature('/nonexistent/spooky/cert.pem'), 'missing');
  });
});
