import { decodeSaslPlain } from '../../protocol/sasl-plain.ts';
import { bad, defineCommand, no } from '../command.ts';
import { proxyLogin } from './proxy-login.ts';

// AUTHENTICATE PLAIN (RFC 4616) with SASL-IR (RFC 4959): "authzid NUL authcid NUL password".
export const authenticate = defineCommand({
  name: 'AUTHENTICATE',
  states: ['not-authenticated'],
  grammar: ['atom', 'atom?'],
  async handle(session, [mechanism, initial]) {
    if (mechanism.toUpperCase() !== 'PLAIN') return no('Only PLAIN is supported', 'CANNOT');
    let response = initial;
    if (response === undefined) {
      session.send(Buffer.from('+ \r\n'));
      const line = await session.readLine();
      if (line === undefined) return bad('Connection closed');
      response = line.toString('latin1');
    }
    if (response === '*') return bad('Authentication cancelled');
    const credentials = decodeSaslPlain(response === '=' ? '' : response);
    if (!credentials) return bad('Malformed PLAIN response');
    return proxyLogin(session, credentials.authzid, credentials.authcid, credentials.password);
  },
});
