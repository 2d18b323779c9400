// LMTP's command grammar (RFC 2033, RFC 5321 §4.1) as pure functions: a command line → its verb and
// arguments, MAIL FROM / RCPT TO paths and their parameters. The session decides what to do.
import { parseMailbox } from '../../lib/mail/address.ts';

export interface CommandLine {
  readonly verb: string;
  readonly argument: string;
}

/** `VERB argument`; undefined for a line with a bare CR or LF, NUL, or no verb (RFC 5321 §2.3.8). */
export function parseCommandLine(line: Buffer): CommandLine | undefined {
  if (line.includes(0x0d) || line.includes(0x0a) || line.includes(0x00)) return undefined;
  const text = line.toString('utf8');
  const match = /^([A-Za-z]{1,12})(?: (.*))?$/s.exec(text);
  if (!match) return undefined;
  return { verb: match[1]!.toUpperCase(), argument: match[2] ?? '' };
}

export type PathParse =
  { ok: true; address: string; params: Map<string, string | undefined> } | { ok: false; reply: string };

/**
 * `FROM:<path> params` or `TO:<path> params`. The null sender `<>` is allowed for MAIL only. The
 * address is checked with the MTA's own parser (no relay forms), SMTPUTF8 deciding whether
 * non-ASCII is allowed; parameters are KEY[=value], keys upper-cased.
 */
export function parsePath(argument: string, keyword: 'FROM' | 'TO', smtpUtf8Allowed: boolean): PathParse {
  const match = new RegExp(`^${keyword}:\\s?<([^<>]*)>((?: [^ ]+)*)$`, 'i').exec(argument);
  if (!match)
    return {
      ok: false,
      reply: `501 5.5.4 Syntax: ${keyword === 'FROM' ? 'MAIL FROM:<address>' : 'RCPT TO:<address>'}`,
    };
  const params = new Map<string, string | undefined>();
  for (const part of match[2]!.trim().split(' ').filter(Boolean)) {
    const eq = part.indexOf('=');
    params.set((eq < 0 ? part : part.slice(0, eq)).toUpperCase(), eq < 0 ? undefined : part.slice(eq + 1));
  }
  let path = match[1]!;
  // A source route (@a,@b:user@c) may be ignored by a receiver (RFC 5321 §4.1.2, appendix C).
  if (path.startsWith('@') && path.includes(':')) path = path.slice(path.indexOf(':') + 1);
  if (path === '') {
    if (keyword === 'FROM') return { ok: true, address: '', params };
    return { ok: false, reply: '501 5.1.3 A recipient cannot be empty' };
  }
  const smtpUtf8 = smtpUtf8Allowed && (keyword === 'TO' || params.has('SMTPUTF8'));
  const parsed = parseMailbox(path, { smtpUtf8 });
  if (!parsed.ok) {
    if (parsed.problem === 'needs-smtputf8')
      return { ok: false, reply: '553 5.6.7 Non-ASCII address without SMTPUTF8' };
    return { ok: false, reply: `501 5.1.3 Bad address syntax (${parsed.problem})` };
  }
  return { ok: true, address: parsed.value.address, params };
}

/** Checks MAIL's parameters (RFC 1870 SIZE, RFC 6152 BODY, RFC 6531 SMTPUTF8); a reply when refused. */
export function checkMailParams(
  params: Map<string, string | undefined>,
  maxBytes: number,
): string | undefined {
  for (const [key, value] of params) {
    switch (key) {
      case 'SIZE':
        if (!value || !/^[0-9]{1,20}$/.test(value)) return '501 5.5.4 SIZE needs a number';
        if (Number(value) > maxBytes) return `552 5.3.4 Message too big (at most ${maxBytes} bytes)`;
        break;
      case 'BODY':
        if (!value || !['7BIT', '8BITMIME'].includes(value.toUpperCase()))
          return '501 5.5.4 BODY is 7BIT or 8BITMIME';
        break;
      case 'SMTPUTF8':
        if (value !== undefined) return '501 5.5.4 SMTPUTF8 takes no value';
        break;
      default:
        return `555 5.5.4 Unsupported parameter ${key}`;
    }
  }
  return undefined;
}
