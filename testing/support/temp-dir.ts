// A scratch folder per test suite, removed afterwards unless KEEP_TEST_DIRS=1 (to read peers' logs).
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function makeTempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `mtopo-${prefix}-`));
  // Peers that drop privileges (Postfix's daemons, smtp-sink as nobody) must be able to enter it.
  chmodSync(path, 0o755);
  return {
    path,
    remove: () => {
      if (process.env.KEEP_TEST_DIRS === '1') {
        process.stderr.write(`kept test dir ${path}\n`);
        return;
      }
      rmSync(path, { recursive: true, force: true });
    },
  };
}
