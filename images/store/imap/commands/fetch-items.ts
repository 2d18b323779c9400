// FETCH's data items (RFC 9051 6.4.5, RFC 3516 BINARY, RFC 7162 MODSEQ/CHANGEDSINCE/VANISHED),
// read from the generic tokens into a plan the FETCH handler carries out.
import { ArgumentError, astring } from '../command.ts';
import type { AtomToken, Token } from '../../../lib/imap/command-reader.ts';
import type { SectionSpec, SectionText } from '../message/sections.ts';

export type SimpleItem =
  'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE' | 'UID' | 'MODSEQ';

export type FetchItem =
  | { kind: 'simple'; name: SimpleItem }
  | {
      kind: 'section';
      /** BODY[] (RFC822 forms map here), BINARY[], BINARY.SIZE[]. */
      type: 'BODY' | 'BINARY' | 'BINARY.SIZE';
      peek: boolean;
      section: SectionSpec;
      partial?: { start: number; length?: number };
      /** The item's name in the response: "BODY[HEADER.FIELDS (FROM)]<0>", "RFC822". */
      label: string;
    };

export interface FetchPlan {
  items: FetchItem[];
  changedSince?: number;
  vanished: boolean;
}

const SIMPLE = new Set<string>([
  'FLAGS',
  'INTERNALDATE',
  'RFC822.SIZE',
  'ENVELOPE',
  'BODY',
  'BODYSTRUCTURE',
  'UID',
  'MODSEQ',
]);
const MACROS: Record<string, SimpleItem[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

export function readFetchPlan(tokens: readonly Token[]): FetchPlan {
  const [itemsToken, modifiers, extra] = tokens;
  if (!itemsToken || extra) throw new ArgumentError('Expected data items and optional modifiers');
  const items: FetchItem[] = [];
  if (itemsToken.kind === 'atom' && !itemsToken.section && MACROS[itemsToken.value.toUpperCase()]) {
    for (const name of MACROS[itemsToken.value.toUpperCase()]!) items.push({ kind: 'simple', name });
  } else {
    const list = itemsToken.kind === 'list' ? itemsToken.items : [itemsToken];
    if (list.length === 0) throw new ArgumentError('Empty list of data items');
    for (const token of list) items.push(readItem(token));
  }
  const plan: FetchPlan = { items, vanished: false };
  if (modifiers) {
    if (modifiers.kind !== 'list') throw new ArgumentError('Expected (modifiers)');
    for (let i = 0; i < modifiers.items.length; i++) {
      const t = modifiers.items[i]!;
      const name = t.kind === 'atom' ? t.value.toUpperCase() : '';
      if (name === 'CHANGEDSINCE') {
        const value = modifiers.items[++i];
        if (value?.kind !== 'atom' || !/^\d{1,19}$/.test(value.value))
          throw new ArgumentError('Expected CHANGEDSINCE modseq');
        plan.changedSince = Number(value.value);
      } else if (name === 'VANISHED') {
        plan.vanished = true;
      } else {
        throw new ArgumentError(`Unknown FETCH modifier ${name.slice(0, 20)}`);
      }
    }
    if (plan.vanished && plan.changedSince === undefined)
      throw new ArgumentError('VANISHED needs CHANGEDSINCE');
  }
  if (plan.changedSince !== undefined && !items.some((i) => i.kind === 'simple' && i.name === 'MODSEQ')) {
    items.push({ kind: 'simple', name: 'MODSEQ' }); // RFC 7162 3.1.4.1: CHANGEDSINCE implies MODSEQ
  }
  return plan;
}

function readItem(token: Token): FetchItem {
  if (token.kind !== 'atom') throw new ArgumentError('Expected a data item');
  const name = token.value.toUpperCase();
  if (token.section) return sectionItem(token, name);
  if (token.partial) throw new ArgumentError('A partial range needs a section');
  if (SIMPLE.has(name)) return { kind: 'simple', name: name as SimpleItem };
  switch (name) {
    case 'RFC822':
      return { kind: 'section', type: 'BODY', peek: false, section: { path: [] }, label: 'RFC822' };
    case 'RFC822.HEADER':
      return {
        kind: 'section',
        type: 'BODY',
        peek: true,
        section: { path: [], text: 'HEADER' },
        label: 'RFC822.HEADER',
      };
    case 'RFC822.TEXT':
      return {
        kind: 'section',
        type: 'BODY',
        peek: false,
        section: { path: [], text: 'TEXT' },
        label: 'RFC822.TEXT',
      };
    default:
      throw new ArgumentError(`Unknown data item ${name.slice(0, 30)}`);
  }
}

const SECTION_TEXTS = new Set(['HEADER', 'TEXT', 'MIME', 'HEADER.FIELDS', 'HEADER.FIELDS.NOT']);

/** "1.2.HEADER" → path [1, 2] and text HEADER. */
function parseSectionAtom(value: string): { path: number[]; text: SectionText | undefined } | undefined {
  const parts = value.split('.');
  const path: number[] = [];
  while (parts.length > 0 && /^[1-9]\d{0,8}$/.test(parts[0]!)) path.push(Number(parts.shift()));
  const rest = parts.join('.').toUpperCase();
  if (rest === '') return { path, text: undefined };
  return SECTION_TEXTS.has(rest) ? { path, text: rest as SectionText } : undefined;
}

function sectionItem(token: AtomToken, name: string): FetchItem {
  const type = name.startsWith('BINARY.SIZE') ? 'BINARY.SIZE' : name.startsWith('BINARY') ? 'BINARY' : 'BODY';
  const peek = name.endsWith('.PEEK');
  const [spec, fields, extra] = token.section!;
  if (extra) throw new ArgumentError('Invalid section');
  const section: SectionSpec = { path: [] };
  let label = '';
  if (spec) {
    if (spec.kind !== 'atom') throw new ArgumentError('Invalid section');
    const parsed = parseSectionAtom(spec.value);
    if (!parsed) throw new ArgumentError(`Invalid section ${spec.value.slice(0, 30)}`);
    section.path = parsed.path;
    if (parsed.text) section.text = parsed.text;
    if (section.text === 'MIME' && section.path.length === 0)
      throw new ArgumentError('MIME needs a part number');
    label = spec.value.toUpperCase();
  }
  if (section.text === 'HEADER.FIELDS' || section.text === 'HEADER.FIELDS.NOT') {
    if (fields?.kind !== 'list' || fields.items.length === 0)
      throw new ArgumentError('HEADER.FIELDS needs a list of field names');
    section.fields = fields.items.map((f) => astring(f));
    label += ` (${section.fields.map((f) => f.toUpperCase()).join(' ')})`;
  } else if (fields) {
    throw new ArgumentError('Invalid section');
  }
  if (type !== 'BODY' && section.text !== undefined)
    throw new ArgumentError('BINARY takes part numbers only');
  const item: FetchItem = {
    kind: 'section',
    type,
    peek: peek || type === 'BINARY.SIZE',
    section,
    label: `${type}[${label}]`,
  };
  if (token.partial) {
    if (type === 'BINARY.SIZE') throw new ArgumentError('BINARY.SIZE takes no partial range');
    item.partial = token.partial;
    item.label += `<${token.partial.start}>`;
  }
  return item;
}
