// Mailbox names on the wire. Without UTF8=ACCEPT they travel in modified UTF-7 (RFC 3501 section
// 5.1.3): "&" starts a base64 run of UTF-16 (with "," for "/"), "-" ends it, "&-" is "&".
// The engine stores UTF-8; these convert at the protocol edge.

export function decodeMailboxName(wire: string): string | undefined {
  let out = '';
  let i = 0;
  while (i < wire.length) {
    const c = wire[i]!;
    if (c !== '&') {
      if (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) > 0x7e) return wire; // already UTF-8 (lenient)
      out += c;
      i++;
      continue;
    }
    const end = wire.indexOf('-', i);
    if (end < 0) return undefined;
    if (end === i + 1) {
      out += '&';
    } else {
      const b64 = wire.slice(i + 1, end).replace(/,/g, '/');
      if (!/^[A-Za-z0-9+/]+$/.test(b64)) return undefined;
      const bytes = Buffer.from(b64, 'base64');
      if (bytes.length % 2 !== 0) return undefined;
      for (let j = 0; j < bytes.length; j += 2) out += String.fromCharCode(bytes.readUInt16BE(j));
    }
    i = end + 1;
  }
  return out;
}

export function encodeMailboxName(name: string): string {
  let out = '';
  let run = '';
  const flush = () => {
    if (run.length === 0) return;
    const bytes = Buffer.alloc(run.length * 2);
    for (let j = 0; j < run.length; j++) bytes.writeUInt16BE(run.charCodeAt(j), j * 2);
    out += `&${bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
    run = '';
  };
  for (const c of name) {
    const code = c.charCodeAt(0);
    if (code >= 0x20 && code <= 0x7e) {
      flush();
      out += c === '&' ? '&-' : c;
    } else {
      run += c; // a surrogate pair stays two UTF-16 units, as RFC 3501 wants
    }
  }
  flush();
  return out;
}
