import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { DirectorySync } from './directory-sync.ts';

const temp = makeTempDir('directory-sync');
after(() => temp.remove());

describe('DirectorySync', () => {
  it('shares one fsync among callers that arrive together', async () => {
    const sync = new DirectorySync(temp.path);
    await Promise.all(Array.from({ length: 50 }, () => sync.sync()));
    assert.ok(sync.syncs <= 3, `${sync.syncs} fsyncs for 50 callers`);
    await sync.close();
  });

  it('never lets a caller finish on a sync that started before it asked', async () => {
    const sync = new DirectorySync(temp.path);
    const first = sync.sync();
    const second = sync.sync();
    await first;
    assert.equal(sync.syncs, 1);
    await second;
    assert.equal(sync.syncs, 2);
    await sync.close();
  });
});
