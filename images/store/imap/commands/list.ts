// LIST (RFC 9051 6.3.9) with LIST-EXTENDED (RFC 5258: selection and return options, several
// patterns), LIST-STATUS (RFC 5819), SPECIAL-USE (RFC 6154), CHILDREN (RFC 3348); and LSUB.
import type { MailboxInfo } from '../../mailbox/api.ts';
import { ArgumentError, astring, defineCommand, mailboxName, ok } from '../command.ts';
import type { Token } from '../../../lib/imap/command-reader.ts';
import { atom, type ImapValue } from '../protocol/response.ts';
import type { ImapSession } from '../session.ts';
import { readStatusItems, statusResponse, wireName } from './status.ts';

/** A LIST pattern as a RegExp: * is anything, % anything but the delimiter (RFC 9051 6.3.9). */
export function patternToRegExp(pattern: string): RegExp {
  let source = '';
  for (const c of pattern) {
    if (c === '*') source += '.*';
    else if (c === '%') source += '[^/]*';
    else source += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

interface ListRequest {
  subscribedOnly: boolean;
  recursiveMatch: boolean;
  specialUseOnly: boolean;
  returnSubscribed: boolean;
  returnStatus: string[] | undefined;
  patterns: string[];
}

function readList(tokens: readonly Token[], utf8: boolean): ListRequest {
  const request: ListRequest = {
    subscribedOnly: false,
    recursiveMatch: false,
    specialUseOnly: false,
    returnSubscribed: false,
    returnStatus: undefined,
    patterns: [],
  };
  let i = 0;
  const first = tokens[0];
  if (first?.kind === 'list') {
    for (const t of first.items) {
      const option = t.kind === 'atom' ? t.value.toUpperCase() : '';
      if (option === 'SUBSCRIBED') request.subscribedOnly = true;
      else if (option === 'RECURSIVEMATCH') request.recursiveMatch = true;
      else if (option === 'SPECIAL-USE') request.specialUseOnly = true;
      else if (option !== 'REMOTE')
        throw new ArgumentError(`Unknown selection option ${option.slice(0, 20)}`);
    }
    if (request.recursiveMatch && !request.subscribedOnly)
      throw new ArgumentError('RECURSIVEMATCH needs another selection option');
    i++;
  }
  const reference = tokens[i++];
  const patterns = tokens[i++];
  if (!reference || !patterns) throw new ArgumentError('Expected reference and mailbox pattern');
  const prefix = mailboxName(astring(reference), utf8);
  const list = patterns.kind === 'list' ? patterns.items : [patterns];
  request.patterns = list.map((p) => {
    const raw = mailboxName(astring(p), utf8);
    // RFC 9051 6.3.9: the pattern is appended to the reference as it is ("Python" + "*" is
    // "Python*", so Python itself matches too); a pattern starting with the delimiter stands alone.
    return raw.startsWith('/') ? raw.slice(1) : `${prefix}${raw}`;
  });
  const returnWord = tokens[i];
  if (returnWord) {
    const options = tokens[i + 1];
    if (
      returnWord.kind !== 'atom' ||
      returnWord.value.toUpperCase() !== 'RETURN' ||
      options?.kind !== 'list' ||
      tokens.length > i + 2
    ) {
      throw new ArgumentError('Expected RETURN (options)');
    }
    for (let j = 0; j < options.items.length; j++) {
      const t = options.items[j]!;
      const option = t.kind === 'atom' ? t.value.toUpperCase() : '';
      if (option === 'SUBSCRIBED') request.returnSubscribed = true;
      else if (option === 'STATUS') request.returnStatus = readStatusItems(options.items[++j]);
      else if (option !== 'CHILDREN' && option !== 'SPECIAL-USE')
        throw new ArgumentError(`Unknown return option ${option.slice(0, 20)}`);
    }
  }
  return request;
}

async function runList(session: ImapSession, request: ListRequest, verb: 'LIST' | 'LSUB'): Promise<void> {
  const account = session.account!;
  if (verb === 'LIST' && request.patterns.length === 1 && request.patterns[0] === '') {
    // RFC 9051 6.3.9: an empty pattern asks for the delimiter and the root.
    session.untagged([atom('*'), atom('LIST'), [atom('\\Noselect')], '/', '']);
    return;
  }
  const regexps = request.patterns.map(patternToRegExp);
  const matchesAny = (name: string) => regexps.some((r) => r.test(name));
  const mailboxes = await account.listMailboxes();
  const subscribed = new Set(
    request.subscribedOnly || request.returnSubscribed || verb === 'LSUB'
      ? await account.listSubscriptions()
      : [],
  );
  const byName = new Map<string, MailboxInfo>(mailboxes.map((m) => [m.name, m]));

  const names =
    request.subscribedOnly || verb === 'LSUB'
      ? [...new Set([...subscribed])].sort()
      : mailboxes.map((m) => m.name);
  const listed = new Set<string>();
  for (const name of names) {
    if (!matchesAny(name)) continue;
    const info = byName.get(name);
    if (request.specialUseOnly && !info?.specialUse) continue;
    listed.add(name);
    const attributes: ImapValue[] = [];
    if (!info) attributes.push(atom('\\NonExistent'));
    else {
      if (!info.selectable) attributes.push(atom('\\Noselect'));
      if (verb === 'LIST') attributes.push(atom(info.hasChildren ? '\\HasChildren' : '\\HasNoChildren'));
      if (info.specialUse && verb === 'LIST') attributes.push(atom(info.specialUse));
    }
    if ((request.subscribedOnly || request.returnSubscribed) && verb === 'LIST' && subscribed.has(name))
      attributes.push(atom('\\Subscribed'));
    session.untagged([atom('*'), atom(verb), attributes, '/', wireName(session, name)]);
    if (request.returnStatus && info?.selectable) {
      session.untagged(await statusResponse(session, name, request.returnStatus));
    }
  }
  // RFC 5258 CHILDINFO: with RECURSIVEMATCH, a parent that is not itself subscribed but has
  // subscribed children is listed with ("CHILDINFO" ("SUBSCRIBED")).
  if (request.recursiveMatch && verb === 'LIST') {
    for (const info of mailboxes) {
      if (listed.has(info.name) || !matchesAny(info.name)) continue;
      if (![...subscribed].some((s) => s.startsWith(`${info.name}/`))) continue;
      session.untagged([
        atom('*'),
        atom('LIST'),
        [atom(info.hasChildren ? '\\HasChildren' : '\\HasNoChildren')],
        '/',
        wireName(session, info.name),
        ['CHILDINFO', ['SUBSCRIBED']],
      ]);
    }
  }
}

export const list = defineCommand({
  name: 'LIST',
  states: ['authenticated', 'selected'],
  grammar: ['rest'],
  async handle(session, [tokens]) {
    await runList(session, readList(tokens, session.utf8), 'LIST');
    return ok('LIST completed');
  },
});

export const lsub = defineCommand({
  name: 'LSUB',
  states: ['authenticated', 'selected'],
  grammar: ['rest'],
  async handle(session, [tokens]) {
    if (tokens.length !== 2 || tokens.some((t) => t.kind === 'list'))
      throw new ArgumentError('Expected reference and mailbox pattern');
    await runList(session, readList(tokens, session.utf8), 'LSUB');
    return ok('LSUB completed');
  },
});
