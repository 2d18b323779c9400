import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { mtaConfig } from './contract/mta.ts';
import { isMtopoError } from './errors.ts';
import { loadConfigFile, loadConfigInChild, printCheckedConfig } from './load-config.ts';
import { makeTempDir } from '../../testing/support/temp-dir.ts';

const temp = makeTempDir('config');
after(() => temp.remove());

const write = (name: string, text: string) => {
  const path = join(temp.path, name);
  writeFileSync(path, text);
  return path;
};

describe('loadConfigFile', () => {
  it('names every field that does not match the schema', () => {
    const path = write('bad.json', JSON.stringify({ program: 'mta', role: 'inbound', listeners: [] }));
    assert.throws(
      () => loadConfigFile(path, mtaConfig),
      (error: unknown) =>
        isMtopoError(error, 'ECONFIG') &&
        /listeners: /.test(error.message) &&
        /common: /.test(error.message) &&
        /directory: /.test(error.message) &&
        error.message.includes(path),
    );
  });

  it('names the role when there is no such role, and the fields a role does not have', () => {
    const unknown = write('role.json', JSON.stringify({ program: 'mta', role: 'relay' }));
    assert.throws(() => loadConfigFile(unknown, mtaConfig), /role: .*internet.*inbound.*outbound.*gateway/);
    const foreign = write(
      'foreign.json',
      JSON.stringify({ program: 'mta', role: 'internet', directory: {}, relayTo: {} }),
    );
    assert.throws(() => loadConfigFile(foreign, mtaConfig), /directory/);
  });

  it('says when the file is not JSON, or is missing', () => {
    assert.throws(() => loadConfigFile(write('broken.json', '{"program":'), mtaConfig), /is not JSON/);
    assert.throws(() => loadConfigFile(join(temp.path, 'absent.json'), mtaConfig), /cannot read config file/);
  });
});

// A program in small: a schema with a default and an address list, checked by its own --check-config.
const entry = write(
  'program.ts',
  [
    `import { z } from ${JSON.stringify(import.meta.resolve('zod'))};`,
    `import { addressList } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'contract/address-list.ts')).href)};`,
    `import { printCheckedConfig } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'load-config.ts')).href)};`,
    `const schema = z.object({ name: z.string(), port: z.number().default(1143), from: addressList.optional() });`,
    `if (process.argv[2] !== '--check-config' || process.argv[3] !== '--config') process.exit(2);`,
    `process.exitCode = printCheckedConfig(process.argv[4], schema);`,
  ].join('\n'),
);

describe('printCheckedConfig and loadConfigInChild (the config checked outside the program)', () => {
  it('prints the config as parsed, defaults filled in, and exits 0; or names the fields and exits 1', () => {
    const schema = z.object({ name: z.string(), port: z.number().default(1143) });
    const out: string[] = [];
    const err: string[] = [];
    const sink = (lines: string[]) => ({ write: (text: string) => lines.push(text) > 0 });
    const good = write('print-good.json', JSON.stringify({ name: 'a' }));
    assert.equal(printCheckedConfig(good, schema, sink(out), sink(err)), 0);
    assert.deepEqual(JSON.parse(out.join('')), { name: 'a', port: 1143 });
    assert.deepEqual(err, []);
    const bad = write('print-bad.json', JSON.stringify({ program: 'mta', role: 'relay' }));
    assert.equal(printCheckedConfig(bad, mtaConfig, sink(out), sink(err)), 1);
    assert.match(err.join(''), /role: .*internet/);
    assert.doesNotMatch(err.join(''), /MtopoError|\n {4}at /, 'the message, not a stack');
  });

  it('hands back what the child parsed, defaults included', () => {
    const path = write('good.json', JSON.stringify({ name: 'a', from: ['10.0.0.0/8'] }));
    assert.deepEqual(loadConfigInChild(path, entry), { name: 'a', port: 1143, from: ['10.0.0.0/8'] });
  });

  it("refuses a bad file with the child's own message, every field named", () => {
    const path = write('bad.json', JSON.stringify({ port: 'x', from: ['10.0.0.0/33'] }));
    assert.throws(
      () => loadConfigInChild(path, entry),
      (error: unknown) =>
        isMtopoError(error, 'ECONFIG') &&
        error.message.startsWith(`${path} is invalid:`) &&
        /name: /.test(error.message) &&
        /port: /.test(error.message) &&
        /from\.0: must be an IP address or a CIDR/.test(error.message),
    );
  });

  it('says so when the check itself fails (a program without the flag)', () => {
    const path = write('any.json', '{}');
    const silent = write('silent.ts', 'process.exit(3);');
    assert.throws(
      () => loadConfigInChild(path, silent),
      (error: unknown) =>
        isMtopoError(error, 'ECONFIG') && /checking config file .* failed \(exit 3\)/.test(error.message),
    );
  });
});
