// APPEND (RFC 9051 6.3.12) with MULTIAPPEND (RFC 3502: all messages or none), BINARY's literal8
// (RFC 3516), APPENDUID (RFC 4315) and APPENDLIMIT (RFC 7889; the reader refuses a literal over it
// before the client sends it).
import type { AppendItem } from '../../mailbox/api.ts';
import { ArgumentError, defineCommand, flagList, no, ok } from '../command.ts';
import { formatSequenceSet } from '../protocol/sequence-set.ts';
import { LiteralSpool } from '../literal-spool.ts';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE */
export function parseDateTime(text: string): number | undefined {
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  if (month < 0) return undefined;
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  const offset = (Number(m[8]) * 60 + Number(m[9])) * 60_000 * (m[7] === '-' ? -1 : 1);
  return utc - offset;
}

export const append = defineCommand({
  name: 'APPEND',
  states: ['authenticated', 'selected'],
  grammar: ['mailbox', 'rest'],
  async handle(session, [mailbox, tokens]) {
    const items: AppendItem[] = [];
    let i = 0;
    while (i < tokens.length) {
      let flags: string[] | undefined;
      let internalDate: number | undefined;
      if (tokens[i]?.kind === 'list') flags = flagList(tokens[i++]!).filter((f) => f !== '\\Recent');
      const maybeDate = tokens[i];
      if (maybeDate?.kind === 'string' && !maybeDate.literal) {
        internalDate = parseDateTime(maybeDate.value.toString('latin1'));
        if (internalDate === undefined) throw new ArgumentError('Invalid date-time');
        i++;
      }
      let message = tokens[i++];
      // RFC 6855 4: UTF8 (~{n}…) carries a message with UTF-8 headers, once UTF8=ACCEPT is enabled.
      if (message?.kind === 'atom' && message.value.toUpperCase() === 'UTF8') {
        if (!session.utf8) throw new ArgumentError('APPEND UTF8 needs ENABLE UTF8=ACCEPT');
        const list = tokens[i++];
        const inner = list?.kind === 'list' && list.items.length === 1 ? list.items[0] : undefined;
        if (inner?.kind !== 'string' || !inner.binary)
          throw new ArgumentError('Expected UTF8 (~{n} message)');
        message = inner;
      }
      if (message?.kind !== 'string' || !message.literal)
        throw new ArgumentError('Expected the message as a literal');
      // A big literal was streamed into a file as it came (literal-spool.ts); its token is empty.
      const spool = message.streamed?.sink;
      if (spool instanceof LiteralSpool) {
        if (spool.error !== undefined) throw spool.error;
        if (!spool.file) throw new Error('a streamed literal without a file');
      } else if (message.value.length === 0) return no('Empty message');
      if (!message.binary && (spool instanceof LiteralSpool ? spool.nul : message.value.includes(0)))
        return no('NUL in a message needs BINARY APPEND (~{n})', 'UNKNOWN-CTE');
      items.push({
        source: spool instanceof LiteralSpool ? spool.file! : message.value,
        ...(flags ? { flags } : {}),
        ...(internalDate !== undefined ? { internalDate } : {}),
      });
    }
    if (items.length === 0) throw new ArgumentError('Expected a message');
    const result = await session.account!.append(mailbox, items);
    return ok('APPEND completed', `APPENDUID ${result.uidValidity} ${formatSequenceSet(result.uids)}`);
  },
});
