// CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE (RFC 9051 6.3.4–6.3.8): thin calls into the
// account. Grouped because each is three lines; the grammar and the state check are the
// dispatcher's.
import { SPECIAL_USES, type SpecialUse } from '../../mailbox/api.ts';
import { ArgumentError, defineCommand, no, ok } from '../command.ts';

export const create = defineCommand({
  name: 'CREATE',
  states: ['authenticated', 'selected'],
  grammar: ['mailbox', 'rest'],
  async handle(session, [name, rest]) {
    // RFC 6154 5.2: CREATE name (USE (\Sent))
    let specialUse: SpecialUse | undefined;
    const [params] = rest;
    if (params) {
      const items = params.kind === 'list' ? params.items : [];
      const use = items[1];
      if (items[0]?.kind !== 'atom' || items[0].value.toUpperCase() !== 'USE' || use?.kind !== 'list') {
        throw new ArgumentError('Expected (USE (attributes))');
      }
      for (const token of use.items) {
        const attribute = SPECIAL_USES.find(
          (u) => token.kind === 'atom' && u.toLowerCase() === token.value.toLowerCase(),
        );
        if (!attribute) return no('Unsupported special-use attribute', 'USEATTR');
        specialUse = attribute;
      }
    }
    const trimmed = name.endsWith('/') ? name.slice(0, -1) : name; // RFC 9051 6.3.4: a trailing delimiter only says "will have inferiors"
    if (trimmed === 'INBOX') return no('INBOX exists', 'ALREADYEXISTS');
    await session.account!.create(trimmed, specialUse ? { specialUse } : {});
    return ok('CREATE completed');
  },
});

export const deleteMailbox = defineCommand({
  name: 'DELETE',
  states: ['authenticated', 'selected'],
  grammar: ['mailbox'],
  async handle(session, [name]) {
    if (name === 'INBOX') return no('INBOX cannot be deleted', 'CANNOT');
    await session.account!.delete(name);
    return ok('DELETE completed');
  },
});

export const rename = defineCommand({
  name: 'RENAME',
  states: ['authenticated', 'selected'],
  grammar: ['mailbox', 'mailbox'],
  async handle(session, [from, to]) {
    await session.account!.rename(from, to);
    return ok('RENAME completed');
  },
});

export const subscribe = defineCommand({
  name: 'SUBSCRIBE',
  states: ['authenticated', 'selected'],
  grammar: ['mailbox'],
  async handle(session, [name]) {
    await session.account!.subscribe(name);
    return ok('SUBSCRIBE completed');
  },
});

export const unsubscribe = defineCommand({
  name: 'UNSUBSCRIBE',
  states: ['authenticated', 'selected'],
  grammar: ['mailbox'],
  async handle(session, [name]) {
    await session.account!.unsubscribe(name);
    return ok('UNSUBSCRIBE completed');
  },
});
