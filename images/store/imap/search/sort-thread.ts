// SORT and THREAD (RFC 5256): pure functions over a few header facts per message. SORT keys with
// the sequence number as the last tie-breaker (section 3); THREAD ORDEREDSUBJECT (groups by base
// subject) and REFERENCES (the Zawinski algorithm of section 3, with subject merging).
import { adjacent, type ImapValue } from '../protocol/response.ts';
import { baseSubject } from './base-subject.ts';

export interface SortFacts {
  /** What is reported: a sequence number or a UID. */
  id: number;
  seq: number;
  size: number;
  internalDate: number;
  /** The Date: header in ms; the internal date when absent or unparseable (section 2.2). */
  sentDate: number;
  subject: string | undefined;
  /** addr-mailbox of the first From/To/Cc address. */
  from: string;
  to: string;
  cc: string;
  /** DISPLAY (RFC 5957): the display name, else the address. */
  fromDisplay: string;
  toDisplay: string;
  messageId: string | undefined;
  /** References, else the first id of In-Reply-To. */
  references: string[];
}

export type SortCriterion =
  'ARRIVAL' | 'CC' | 'DATE' | 'FROM' | 'SIZE' | 'SUBJECT' | 'TO' | 'DISPLAYFROM' | 'DISPLAYTO';
export const SORT_CRITERIA = new Set<string>([
  'ARRIVAL',
  'CC',
  'DATE',
  'FROM',
  'SIZE',
  'SUBJECT',
  'TO',
  'DISPLAYFROM',
  'DISPLAYTO',
]);

export interface SortRule {
  criterion: SortCriterion;
  reverse: boolean;
}

function keyOf(m: SortFacts, criterion: SortCriterion): string | number {
  switch (criterion) {
    case 'ARRIVAL':
      return m.internalDate;
    case 'DATE':
      return m.sentDate;
    case 'SIZE':
      return m.size;
    case 'SUBJECT':
      return baseSubject(m.subject).base;
    case 'FROM':
      return m.from.toUpperCase();
    case 'TO':
      return m.to.toUpperCase();
    case 'CC':
      return m.cc.toUpperCase();
    case 'DISPLAYFROM':
      return m.fromDisplay.toUpperCase();
    case 'DISPLAYTO':
      return m.toDisplay.toUpperCase();
  }
}

function compare(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortMessages(messages: readonly SortFacts[], rules: readonly SortRule[]): number[] {
  const keyed = messages.map((m) => ({ m, keys: rules.map((r) => keyOf(m, r.criterion)) }));
  keyed.sort((x, y) => {
    for (let i = 0; i < rules.length; i++) {
      const c = compare(x.keys[i]!, y.keys[i]!);
      if (c !== 0) return rules[i]!.reverse ? -c : c;
    }
    return x.m.seq - y.m.seq;
  });
  return keyed.map((k) => k.m.id);
}

// ——— THREAD ———

interface ThreadNode {
  message?: SortFacts;
  children: ThreadNode[];
  parent?: ThreadNode;
}

const byDate = (a: ThreadNode, b: ThreadNode) => {
  const da = firstMessage(a);
  const db = firstMessage(b);
  if (!da || !db) return 0;
  return da.sentDate - db.sentDate || da.seq - db.seq;
};

function firstMessage(node: ThreadNode): SortFacts | undefined {
  if (node.message) return node.message;
  for (const child of node.children) {
    const found = firstMessage(child);
    if (found) return found;
  }
  return undefined;
}

/** THREAD=ORDEREDSUBJECT (section 2.1 of the THREAD algorithms): one thread per base subject. */
export function threadOrderedSubject(messages: readonly SortFacts[]): ThreadNode[] {
  const sorted = [...messages].sort(
    (a, b) =>
      compare(baseSubject(a.subject).base, baseSubject(b.subject).base) ||
      a.sentDate - b.sentDate ||
      a.seq - b.seq,
  );
  const roots: ThreadNode[] = [];
  let current: ThreadNode | undefined;
  let currentSubject: string | undefined;
  for (const m of sorted) {
    const subject = baseSubject(m.subject).base;
    if (!current || subject !== currentSubject) {
      current = { message: m, children: [] };
      currentSubject = subject;
      roots.push(current);
    } else {
      current.children.push({ message: m, children: [], parent: current });
    }
  }
  return roots.sort(byDate);
}

/** THREAD=REFERENCES (RFC 5256 section 3). */
export function threadReferences(messages: readonly SortFacts[]): ThreadNode[] {
  const table = new Map<string, ThreadNode>();
  const isAncestor = (maybe: ThreadNode, node: ThreadNode) => {
    for (let p: ThreadNode | undefined = node; p; p = p.parent) if (p === maybe) return true;
    return false;
  };
  const link = (parent: ThreadNode, child: ThreadNode) => {
    if (child.parent || isAncestor(child, parent)) return;
    child.parent = parent;
    parent.children.push(child);
  };
  let unique = 0;
  // Step 1: containers by Message-ID, linked along References.
  for (const m of messages) {
    let id = m.messageId;
    let container = id ? table.get(id) : undefined;
    if (!id || (container && container.message)) {
      id = `<unique-${unique++}@mtopo>`; // a missing or duplicate Message-ID: a message of its own
      container = undefined;
    }
    if (!container) {
      container = { children: [] };
      table.set(id, container);
    }
    container.message = m;
    let previous: ThreadNode | undefined;
    for (const ref of m.references) {
      let node = table.get(ref);
      if (!node) {
        node = { children: [] };
        table.set(ref, node);
      }
      if (previous && !node.parent && !isAncestor(node, previous)) link(previous, node);
      previous = node;
    }
    // The message's parent is the last reference (1B), replacing a parent guessed before.
    if (container.parent) {
      container.parent.children = container.parent.children.filter((c) => c !== container);
      container.parent = undefined;
    }
    if (previous && previous !== container && !isAncestor(container, previous)) link(previous, container);
  }
  // Step 2: the roots.
  let roots = [...table.values()].filter((n) => !n.parent);
  // Step 3: prune empty containers.
  const prune = (nodes: ThreadNode[], atRoot: boolean): ThreadNode[] => {
    const out: ThreadNode[] = [];
    for (const node of nodes) {
      node.children = prune(node.children, false);
      for (const child of node.children) child.parent = node;
      if (node.message) out.push(node);
      else if (node.children.length === 0) continue;
      else if (!atRoot || node.children.length === 1) {
        for (const child of node.children) {
          if (atRoot) child.parent = undefined;
          else child.parent = node.parent;
          out.push(child);
        }
      } else out.push(node);
    }
    return out;
  };
  roots = prune(roots, true);
  // Step 4: sort siblings by date.
  const sortTree = (nodes: ThreadNode[]) => {
    for (const n of nodes) sortTree(n.children);
    nodes.sort(byDate);
  };
  sortTree(roots);
  // Step 5: gather roots with the same base subject.
  const subjects = new Map<string, ThreadNode>();
  const subjectOf = (n: ThreadNode) => baseSubject((n.message ?? n.children[0]?.message)?.subject);
  for (const root of roots) {
    const { base } = subjectOf(root);
    if (base === '') continue;
    const seen = subjects.get(base);
    if (
      !seen ||
      (!root.message && seen.message) ||
      (seen.message && root.message && subjectOf(seen).isReplyOrForward && !subjectOf(root).isReplyOrForward)
    ) {
      subjects.set(base, root);
    }
  }
  const merged: ThreadNode[] = [];
  for (const root of roots) {
    const { base, isReplyOrForward } = subjectOf(root);
    const target = base === '' ? undefined : subjects.get(base);
    if (!target || target === root) {
      merged.push(root);
      continue;
    }
    if (!target.message && !root.message) {
      target.children.push(...root.children);
    } else if (!target.message) {
      target.children.push(root);
    } else if (isReplyOrForward && !subjectOf(target).isReplyOrForward) {
      target.children.push(root);
    } else {
      // Neither is a reply of the other: both become children of a new empty container.
      const dummy: ThreadNode = { children: [{ ...target }, root] };
      Object.assign(target, { message: undefined, children: dummy.children });
    }
  }
  // Step 6: sort again.
  sortTree(merged);
  return merged;
}

/** Threads as the THREAD response writes them (section 4): "(1 2 (3)(4))". */
export function renderThreads(roots: readonly ThreadNode[]): ImapValue[] {
  return roots.map((root) => renderNode(root));
}

function renderNode(node: ThreadNode): ImapValue {
  const items: ImapValue[] = [];
  let current: ThreadNode | undefined = node;
  while (current) {
    if (current.message) items.push(current.message.id);
    if (current.children.length === 1 && current.message) {
      current = current.children[0];
      continue;
    }
    if (current.children.length > 0) items.push(adjacent(current.children.map((c) => renderNode(c))));
    break;
  }
  return items;
}
