import { defineCommand, ok } from '../command.ts';
import { atom } from '../protocol/response.ts';

// ENABLE (RFC 5161). QRESYNC implies CONDSTORE (RFC 7162 3.2.3). UTF8=ACCEPT (RFC 6855): mailbox
// names in UTF-8 both ways, UTF-8 in quoted strings of responses, APPEND's UTF8 data item.
const ENABLEABLE = new Set(['CONDSTORE', 'QRESYNC', 'IMAP4REV2', 'UTF8=ACCEPT']);

export const enable = defineCommand({
  name: 'ENABLE',
  states: ['authenticated', 'selected'],
  grammar: ['rest'],
  handle(session, [tokens]) {
    const now: string[] = [];
    for (const token of tokens) {
      if (token.kind !== 'atom') continue;
      const name = token.value.toUpperCase();
      if (!ENABLEABLE.has(name) || session.enabled.has(name)) continue;
      session.enabled.add(name);
      now.push(name === 'IMAP4REV2' ? 'IMAP4rev2' : name);
      if (name === 'QRESYNC' && !session.enabled.has('CONDSTORE')) session.enabled.add('CONDSTORE');
    }
    session.untagged([atom('*'), atom('ENABLED'), ...now.map(atom)]);
    return Promise.resolve(ok('ENABLE completed'));
  },
});
