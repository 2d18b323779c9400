import { Readable } from 'node:stream';
import { defineCommand, ok } from '../command.ts';
import { topLength } from '../maildrop.ts';

// RFC 1939 §7 TOP msg n: the header, the blank line and n lines of the body. Reads only as much of
// the message as that needs.
export const top = defineCommand({
  name: 'TOP',
  states: ['transaction'],
  grammar: ['message', 'number'],
  async handle(session, [n, lines]) {
    const message = session.maildrop.message(n);
    const stream = await session.view.readMessage(message.uid);
    const chunks: Buffer[] = [];
    let length: number | undefined;
    let head: Buffer = Buffer.alloc(0);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      head = chunks.length === 1 ? chunk : Buffer.concat([head, chunk]);
      length = topLength(head, lines, false);
      if (length !== undefined) break;
    }
    stream.destroy();
    length ??= topLength(head, lines, true)!;
    return ok('Top of message follows', Readable.from([head.subarray(0, length)]));
  },
});
