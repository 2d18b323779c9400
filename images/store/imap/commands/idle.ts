// IDLE (RFC 2177): changes by other sessions are pushed as they happen until the client says DONE.
// Bounded: the session's autologout timer still runs, a drain ends it with BYE, and a line other
// than DONE ends it with BAD.
import { bad, defineCommand, ok, type CommandResult } from '../command.ts';
import { sendUpdates } from '../dispatcher.ts';
import type { ImapSession } from '../session.ts';

export const idle = defineCommand({
  name: 'IDLE',
  states: ['authenticated', 'selected'],
  grammar: [],
  async handle(session) {
    session.send(Buffer.from('+ idling\r\n'));
    session.idling = true;
    try {
      return await idleUntilDone(session);
    } finally {
      session.idling = false;
      if (session.selected) session.selected.wake = undefined;
    }
  },
});

async function idleUntilDone(session: ImapSession): Promise<CommandResult> {
  if (session.selected) sendUpdates(session, true);
  const line = session.readLine();
  for (;;) {
    const changed = new Promise<'changed'>((resolve) => {
      if (session.selected) session.selected.wake = () => resolve('changed');
    });
    const result = await Promise.race([line, changed]);
    if (result === 'changed') {
      if (session.selected && !session.isClosed) sendUpdates(session, true);
      if (session.isClosed) return ok('IDLE ended');
      continue;
    }
    if (result === undefined) return ok('IDLE ended');
    if (result.toString('latin1').toUpperCase() !== 'DONE') return bad('Expected DONE');
    return ok('IDLE terminated');
  }
}
