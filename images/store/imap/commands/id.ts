import { ArgumentError, defineCommand, ok } from '../command.ts';
import { HANDBACK_ID_FIELD, parseHandbackNonces } from '../../../lib/contract/handback.ts';
import { atom } from '../protocol/response.ts';

// ID (RFC 2971). The MMP passes the real client's address as x-originating-ip, before it logs in
// (store-login.ts, as Dovecot expects it). It is believed only once the MMP has logged in: before,
// it is kept as a claim that the proxy's login makes true (proxy-login.ts), since a client talking
// to the store directly could claim any address. Its x-mtopo-handback (handback.ts) likewise.
export const id = defineCommand({
  name: 'ID',
  states: ['not-authenticated', 'authenticated', 'selected'],
  grammar: ['rest'],
  handle(session, [tokens]) {
    const [params] = tokens;
    if (!params || tokens.length > 1) throw new ArgumentError('Expected a list or NIL');
    if (params.kind === 'list') {
      const items = params.items.map((t) =>
        t.kind === 'list' ? '' : t.kind === 'string' ? t.value.toString('utf8') : t.value,
      );
      if (items.length % 2 !== 0 || items.length > 60) throw new ArgumentError('Expected field-value pairs');
      for (let i = 0; i < items.length; i += 2) {
        const field = items[i]!.toLowerCase();
        if (field === HANDBACK_ID_FIELD && session.state === 'not-authenticated') {
          session.claimedHandback = parseHandbackNonces(items[i + 1]!);
          continue;
        }
        if (field !== 'x-originating-ip') continue;
        const address = items[i + 1]!;
        if (!/^[0-9a-fA-F.:]{2,45}$/.test(address))
          session.options.log?.warn(
            { client: session.clientAddress },
            'x-originating-ip ignored: not an address',
          );
        else if (session.state === 'not-authenticated') session.claimedClientAddress = address;
        else session.clientAddress = address;
      }
    } else if (!(params.kind === 'atom' && params.value.toUpperCase() === 'NIL')) {
      throw new ArgumentError('Expected a list or NIL');
    }
    session.untagged([atom('*'), atom('ID'), ['name', 'mtopo-store', 'vendor', 'mtopo']]);
    return Promise.resolve(ok('ID completed'));
  },
});
