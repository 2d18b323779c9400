import assert from 'node:assert/strict';
import { existsSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, describe, it } from 'node:test';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { newQueueId, type Envelope } from '../core/envelope.ts';
import { Spool } from './spool.ts';

const temp = makeTempDir('spool');
after(() => temp.remove());

const envelope = (): Envelope => ({
  id: newQueueId(),
  sender: 'a@example.test',
  recipients: ['b@example.test'],
  arrivedAt: Date.now(),
  bodyType: '7bit',
  smtpUtf8: false,
  client: { address: '127.0.0.1', helo: 'test' },
});

/** The files this process holds open under `dir`, from /proc (Linux). */
const openUnder = (dir: string) =>
  readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    })
    .filter((target) => target === dir || target.startsWith(`${dir}/`));

describe('Spool', () => {
  it('holds no file open after it is closed, the spool directory itself included (issue 9)', async () => {
    const dir = join(temp.path, 'fds');
    const spool = await Spool.open(dir);
    await spool.store(envelope(), Buffer.from('Subject: x\r\n\r\nx\r\n'));
    await spool.close();
    assert.deepEqual(openUnder(dir), []);
  });

  it('puts nothing in the queue before commit, and the whole message after', async () => {
    const spool = await Spool.open(join(temp.path, 'a'));
    const e = envelope();
    const writer = await spool.create(e);
    await writer.write(Buffer.from('Subject: hi\r\n\r\n'));
    await writer.write(Buffer.from('body\r\n'));
    assert.deepEqual(await spool.recover(() => assert.fail()), []);
    const stored = await writer.commit();
    const [recovered] = await spool.recover(() => assert.fail());
    assert.deepEqual(recovered?.envelope, e);
    assert.equal(recovered?.size, 21);
    assert.equal(await text(spool.openBody(stored)), 'Subject: hi\r\n\r\nbody\r\n');
    await spool.close();
  });

  it('keeps a small message in memory for its first attempt, and a large one only on disk', async () => {
    const spool = await Spool.open(join(temp.path, 'memory'));
    const small = await spool.store(envelope(), Buffer.from('Subject: small\r\n\r\nx\r\n'));
    assert.equal(small.content?.toString(), 'Subject: small\r\n\r\nx\r\n');
    const large = await spool.store(envelope(), Buffer.alloc(200 * 1024, 'a'));
    assert.equal(large.content, undefined);
    assert.equal((await text(spool.openBody(large))).length, 200 * 1024);
    await spool.close();
  });

  it('keeps the delivery state beside the message, and removes both', async () => {
    const spool = await Spool.open(join(temp.path, 'b'));
    const stored = await spool.store(envelope(), Buffer.from('x\r\n'));
    const state = { failures: 2, nextAttemptAt: 5, done: ['c@example.test'], lastErrors: {} };
    await spool.writeState(stored.envelope.id, state);
    assert.deepEqual((await spool.recover(() => assert.fail()))[0]?.state, state);
    await spool.remove(stored.envelope.id);
    assert.deepEqual(readdirSync(join(temp.path, 'b', 'queue')), []);
    await spool.close();
  });

  it('drops half-written messages at start: they were never acknowledged', async () => {
    const dir = join(temp.path, 'c');
    const spool = await Spool.open(dir);
    const writer = await spool.create(envelope());
    await writer.write(Buffer.from('partial'));
    await spool.close();
    const reopened = await Spool.open(dir);
    assert.equal(existsSync(join(dir, 'tmp', writer.envelope.id)), false);
    assert.deepEqual(await reopened.recover(() => assert.fail()), []);
    await reopened.close();
  });

  it('reports a damaged file instead of delivering it', async () => {
    const dir = join(temp.path, 'd');
    const spool = await Spool.open(dir);
    writeFileSync(join(dir, 'queue', 'BROKEN.msg'), 'not an envelope\n');
    const damaged: string[] = [];
    assert.deepEqual(await spool.recover((file) => damaged.push(file)), []);
    assert.deepEqual(damaged, ['BROKEN.msg']);
    await spool.close();
  });

  it('aborts leave nothing behind', async () => {
    const dir = join(temp.path, 'e');
    const spool = await Spool.open(dir);
    const writer = await spool.create(envelope());
    await writer.abort();
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
    await spool.close();
  });
});
