// The sessions spliced to a store, by the identity they logged in as, so that one user's sessions
// can be ended when the user is moved to another store (docs/mmp.md, "Moving a user").

export interface EndableSession {
  end(): void;
}

export class ProxiedSessions {
  readonly #byIdentity = new Map<string, Set<EndableSession>>();

  // add() and remove(), not a returned function that forgets: that closure would be one more
  // object for each of thousands of idle sessions.
  /** Registers a session. */
  add(identity: string, session: EndableSession): void {
    const key = identity.toLowerCase();
    let set = this.#byIdentity.get(key);
    if (!set) this.#byIdentity.set(key, (set = new Set()));
    set.add(session);
  }

  /** Forgets a session registered with `add`. */
  remove(identity: string, session: EndableSession): void {
    const key = identity.toLowerCase();
    const set = this.#byIdentity.get(key);
    if (!set) return;
    set.delete(session);
    if (set.size === 0) this.#byIdentity.delete(key);
  }

  /** Ends every session of the identity; returns how many there were. */
  endUser(identity: string): number {
    const set = this.#byIdentity.get(identity.toLowerCase());
    if (!set) return 0;
    const sessions = [...set];
    for (const session of sessions) session.end();
    return sessions.length;
  }

  get size(): number {
    let n = 0;
    for (const set of this.#byIdentity.values()) n += set.size;
    return n;
  }
}
