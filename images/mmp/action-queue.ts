// What a pre-login core has decided to do since the shell last asked: lines to send (joined, so a
// CAPABILITY and its OK leave in one write) and other actions in order. Both protocols' cores use it.

type SendAction = { kind: 'send'; data: string };

export class ActionQueue<A extends { kind: string }> {
  #out: (A | SendAction)[] = [];

  /** One response line; CRLF added. */
  send(line: string): void {
    const last = this.#out[this.#out.length - 1];
    if (last && isSend(last)) last.data += `${line}\r\n`;
    else this.#out.push({ kind: 'send', data: `${line}\r\n` });
  }

  push(action: A): void {
    this.#out.push(action);
  }

  /** Everything queued, handed over once. */
  flush(): A[] {
    const out = this.#out;
    this.#out = [];
    // Each core's action type includes the send action; the queue only builds it.
    return out as A[];
  }
}

function isSend(action: { kind: string }): action is SendAction {
  return action.kind === 'send';
}
