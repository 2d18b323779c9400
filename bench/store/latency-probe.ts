// Per-command latency of the mixed load's loop (bench/store/imap-load.ts clientWork, with LOGIN,
// SELECT and LOGOUT), one client on one user, median over 60 short sessions after 60 of warm-up:
// which command costs what, ours beside Dovecot's. Not part of run.ts: a probe for finding the
// next thing to cut. Usage: node bench/store/latency-probe.ts [mtopo,dovecot-high-performance]
import { join } from 'node:path';
import { makeTempDir } from '../../testing/support/temp-dir.ts';
import { ImapConnection, ok } from './imap-client.ts';
import { fill, makeMessage } from './imap-load.ts';
import { startSystem, type SystemName } from './systems.ts';

const names = (process.argv[2] ?? 'mtopo,dovecot-high-performance').split(',') as SystemName[];
const temp = makeTempDir('lat');
for (const name of names) {
  const system = await startSystem(name, join(temp.path, name));
  const user = 'lat@siroe.example';
  await fill(system, user, 200, 4096);
  const times = new Map<string, number[]>();
  const timed = async (label: string, c: ImapConnection, cmd: string | Buffer) => {
    const t = performance.now();
    const a = await ok(c, cmd);
    const list = times.get(label) ?? [];
    list.push(performance.now() - t);
    times.set(label, list);
    return a;
  };
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 60; i++) {
      const c = await ImapConnection.open(system.imapPort);
      await c.greeting();
      await timed('LOGIN', c, `LOGIN ${system.login(user)}`);
      await timed('SELECT', c, 'SELECT INBOX');
      const from = 1 + ((i * 37) % 175);
      const one = from + (i % 25);
      await timed(
        'FETCH hdrs',
        c,
        `UID FETCH ${from}:${from + 24} (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE MESSAGE-ID)])`,
      );
      await timed('FETCH body', c, `UID FETCH ${one} (BODY.PEEK[])`);
      await timed('STORE seen', c, `UID STORE ${one} ${i % 2 ? '-' : '+'}FLAGS.SILENT (\\Seen)`);
      await timed('SEARCH', c, i % 2 ? 'UID SEARCH UNSEEN' : `UID SEARCH SUBJECT "topic ${i % 23}"`);
      const m = makeMessage(100_000 + i, 2048);
      const a = await timed(
        'APPEND',
        c,
        Buffer.concat([Buffer.from(`APPEND INBOX (\\Seen) {${m.length}+}\r\n`), m]),
      );
      const uid = /APPENDUID \d+ (\d+)/.exec(a.line)?.[1];
      await timed('STORE del', c, `UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`);
      await timed('EXPUNGE', c, `UID EXPUNGE ${uid}`);
      await timed('LOGOUT', c, 'LOGOUT');
      c.close();
    }
    if (round === 0) times.clear();
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  let total = 0;
  const row: string[] = [];
  for (const [k, v] of times) {
    total += med(v);
    row.push(`${k} ${med(v).toFixed(2)}`);
  }
  console.log(`${name.padEnd(26)} loop ${total.toFixed(1)} ms | ${row.join(' | ')}`);
  await system.stop();
}
temp.remove();
