// A pre-login capability list is a function of the listener's settings and the store's list (the
// config's array, the same for the program's life): computed once per setting, not per session.

export interface ListenerSettings {
  readonly store: readonly string[];
  readonly secure: boolean;
  readonly starttls: boolean;
  readonly plaintextLogin: boolean;
}

export function oncePerListener<C extends ListenerSettings>(
  compute: (context: C) => string[],
): (context: C) => readonly string[] {
  const computed = new WeakMap<readonly string[], Map<number, readonly string[]>>();
  return (context) => {
    const key = (context.secure ? 1 : 0) | (context.starttls ? 2 : 0) | (context.plaintextLogin ? 4 : 0);
    let lists = computed.get(context.store);
    if (!lists) computed.set(context.store, (lists = new Map<number, readonly string[]>()));
    let list = lists.get(key);
    if (!list) lists.set(key, (list = Object.freeze(compute(context))));
    return list;
  };
}
