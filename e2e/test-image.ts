// The image the end-to-end tests' own pods run: Debian's static busybox (sh, nc, nslookup, …) with
// a link per applet, as a non-root user. Built with the project's image writer, imported once per run.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  importImage,
  writeImageArchive,
  type ContainerdTarget,
  type LayerEntry,
} from '../images/build/index.ts';

export const TEST_IMAGE = 'localhost/mtopo-e2e/busybox:v1';
const BUSYBOX = '/bin/busybox';

export async function importTestImage(target: ContainerdTarget, scratchDir: string): Promise<void> {
  if (!existsSync(BUSYBOX))
    throw new Error(`${BUSYBOX} is missing: run e2e/install-deps.sh (busybox-static)`);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter((name) => /^[a-z0-9_.[-]+$/.test(name) && name !== 'busybox');
  const entries: LayerEntry[] = [
    { type: 'file', path: '/bin/busybox', source: BUSYBOX, mode: 0o755 },
    ...applets.map((name): LayerEntry => ({ type: 'symlink', path: `/bin/${name}`, target: 'busybox' })),
    { type: 'directory', path: '/tmp', mode: 0o1777 },
  ];
  const archive = path.join(scratchDir, 'busybox-image.tar');
  await writeImageArchive(
    {
      name: TEST_IMAGE,
      layers: [entries],
      config: { user: '65534:65534', env: { PATH: '/bin' }, cmd: ['sh'] },
    },
    archive,
  );
  await importImage(archive, TEST_IMAGE, target);
}
