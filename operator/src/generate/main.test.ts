// `make crds` as one command: every generated set written and checked by the same logic.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CHART_DIRECTORY, chartSet, RULES_TEMPLATE_PATH } from './chart-files.ts';
import { crdSet } from './crds.ts';
import { staleFilesOf, writeFilesOf } from './generated-files.ts';

const GENERATOR = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('main.ts --check', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'mtopo-generate-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  const run = (...args: string[]) =>
    spawnSync(process.execPath, [GENERATOR, ...args, '--root', scratch], { encoding: 'utf8' });
  const stale = () => [crdSet(), chartSet()].flatMap((set) => staleFilesOf(scratch, set));

  test('passes on a fresh generation and names each stale, missing or leftover file of every set', () => {
    assert.equal(run().status, 0);
    assert.deepEqual(stale(), []);
    assert.equal(run('--check').status, 0);

    writeFileSync(join(scratch, 'crds/mtopo.dev_mtarelays.yaml'), '# edited by hand\n');
    rmSync(join(scratch, 'docs/api.md'));
    cpSync(join(scratch, 'crds/mtopo.dev_mmppools.yaml'), join(scratch, 'crds/mtopo.dev_oldnames.yaml'));
    writeFileSync(join(scratch, RULES_TEMPLATE_PATH), '{{- define "mtopo.operatorRules" -}}\n{{- end }}\n');
    writeFileSync(join(scratch, CHART_DIRECTORY, 'files/crds/mtopo.dev_oldnames.yaml'), '# left behind\n');
    const result = run('--check');
    assert.equal(result.status, 1);
    assert.match(result.stderr, /stale: crds\/mtopo.dev_mtarelays.yaml \(differs\)/);
    assert.match(result.stderr, /stale: docs\/api.md \(missing\)/);
    assert.match(result.stderr, /stale: crds\/mtopo.dev_oldnames.yaml \(not generated\)/);
    assert.match(result.stderr, /stale: charts\/mtopo\/templates\/_rules.tpl \(differs\)/);
    assert.match(
      result.stderr,
      /stale: charts\/mtopo\/files\/crds\/mtopo.dev_oldnames.yaml \(not generated\)/,
    );
    assert.doesNotMatch(result.stderr, /messagingtopologies/);
    assert.match(result.stderr, /run `make crds`/);

    // Writing repairs everything, and removes the files no kind generates.
    assert.equal(run().status, 0);
    assert.deepEqual(stale(), []);
    assert.deepEqual(writeFilesOf(scratch, crdSet()), [], 'a second write touches nothing');
  });
});
