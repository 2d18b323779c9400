import { defineCommand, err, ok } from '../command.ts';

// XCLIENT, Dovecot's POP3 form: the MMP names the real client before it logs in
// (images/mmp/store-login, when the greeting offers [XCLIENT]). As with IMAP's ID
// x-originating-ip, the address is only a claim until the proxy's login succeeds (session.ts,
// logIn): a client that talks to the store directly could name any address.
export const xclient = defineCommand({
  name: 'XCLIENT',
  states: ['authorization'],
  grammar: ['rest'],
  handle(session, [attributes]) {
    let address: string | undefined;
    for (const pair of attributes.split(' ')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) return err('Expected NAME=VALUE attributes');
      if (pair.slice(0, eq).toUpperCase() === 'ADDR') address = pair.slice(eq + 1);
    }
    if (address !== undefined) {
      if (!/^[0-9a-fA-F.:]{2,45}$/.test(address)) return err('ADDR is not an IP address');
      session.claimedClientAddress = address;
    }
    return ok('Client attributes noted');
  },
});
