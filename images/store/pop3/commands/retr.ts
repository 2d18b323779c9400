import { defineCommand, ok } from '../command.ts';

// RFC 1939 §7 RETR: the message as stored, streamed and dot-stuffed by the dispatcher.
export const retr = defineCommand({
  name: 'RETR',
  states: ['transaction'],
  grammar: ['message'],
  async handle(session, [n]) {
    const message = session.maildrop.message(n);
    const body = await session.view.readMessage(message.uid);
    session.maildrop.markRetrieved(n);
    return ok(`${message.size} octets`, body);
  },
});
