import { decodeSaslPlain } from '../../protocol/sasl-plain.ts';
import { defineCommand, err, ok } from '../command.ts';

// RFC 5034: AUTH PLAIN, with the initial response on the line or after a "+ " continuation. A bare
// AUTH lists the mechanisms (the form RFC 1734 clients such as fetchmail probe with).
export const auth = defineCommand({
  name: 'AUTH',
  states: ['authorization'],
  grammar: ['word?', 'word?'],
  async handle(session, [mechanism, initial]) {
    if (mechanism === undefined) return ok('Mechanisms follow', ['PLAIN']);
    if (mechanism.toUpperCase() !== 'PLAIN') return err('Only PLAIN is supported');
    let response = initial;
    if (response === undefined) {
      session.send('+ \r\n');
      response = await session.readContinuation();
      if (response === undefined) return err('Authentication cancelled', 'AUTH');
    }
    // RFC 5034 §4: "*" cancels; "=" is an empty initial response.
    if (response === '*') return err('Authentication cancelled');
    const credentials = decodeSaslPlain(response === '=' ? '' : response);
    if (!credentials) return err('Malformed PLAIN response', 'AUTH');
    return session.logIn(credentials);
  },
});
