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
    if (response === '=') response = '';
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(response)) return bad('Invalid base64');
    const parts = Buffer.from(response, 'base64').toString('utf8').split('\0');
    if (parts.length !== 3) return bad('Malformed PLAIN response');
    const [authzid, authcid, password] = parts as [string, string, string];
    return proxyLogin(session, authzid, authcid, password);
  },
});
