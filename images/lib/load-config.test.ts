import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { mtaConfig } from './contract/mta.ts';
import { isMtopoError } from './errors.ts';
import { loadConfigFile } from './load-config.ts';
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
