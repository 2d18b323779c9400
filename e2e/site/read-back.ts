// A user's message read back whole, as bytes, through the MMP pool with Python's imaplib (BODY.PEEK[])
// and poplib (RETR, dot-unstuffed by poplib), each after STARTTLS/STLS with the site's certificate
// checked for its published client host name. Byte-identical checks need the bytes exactly as the
// store serves them, which curl's output does not promise.
import { run } from '../../testing/support/processes.ts';
import type { OutsideNetwork } from '../outside/outside-network.ts';
import type { ImapAccount } from './mail-clients.ts';

const SCRIPT = String.raw`
import base64, imaplib, json, poplib, socket, ssl, sys
a = json.loads(sys.argv[1])
context = ssl.create_default_context(cafile=a['caFile'])
def connect(self, timeout=None):
    # Connect to the balancer's address from the zone's, while TLS checks the published host name.
    return socket.create_connection((a['address'], self.port), timeout or 60, source_address=(a['source'], 0))
found = []
if a['protocol'] == 'imap':
    class Client(imaplib.IMAP4):
        _create_socket = connect
    c = Client(a['hostname'], a['port'], timeout=60)
    c.starttls(ssl_context=context)
    c.login(a['user'], a['password'])
    c.select('INBOX', readonly=True)
    typ, data = c.uid('SEARCH', 'CHARSET', 'UTF-8', 'HEADER', 'Subject', a['subject'])
    for uid in data[0].split():
        typ, parts = c.uid('FETCH', uid, '(BODY.PEEK[])')
        found.append(base64.b64encode(parts[0][1]).decode())
    c.logout()
else:
    class Client(poplib.POP3):
        _create_socket = connect
    c = Client(a['hostname'], a['port'], timeout=60)
    c.stls(context=context)
    c.user(a['user'])
    c.pass_(a['password'])
    count, _ = c.stat()
    for n in range(1, count + 1):
        _, lines, _ = c.retr(n)
        message = b'\r\n'.join(lines) + b'\r\n'
        if ('Subject: ' + a['subject']).encode() in message:
            found.append(base64.b64encode(message).decode())
    c.quit()
print(json.dumps(found))
`;

/** Every message of the user's INBOX whose Subject contains `subject`, as the MMP serves it. */
export async function readBack(
  outside: OutsideNetwork,
  source: string,
  server: { host: string; port: number },
  account: ImapAccount,
  protocol: 'imap' | 'pop3',
  subject: string,
): Promise<Buffer[]> {
  const [command, args] = outside.wrap('/usr/bin/python3', [
    '-c',
    SCRIPT,
    JSON.stringify({ ...account, address: server.host, port: server.port, source, protocol, subject }),
  ]);
  const result = await run(command, args, { timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`${protocol} read-back failed: ${result.stderr}`);
  return (JSON.parse(result.stdout) as string[]).map((b) => Buffer.from(b, 'base64'));
}

/**
 * The message as read is the message as sent, byte for byte, after the trace fields the site's
 * hops put on top (Return-Path:, Received: — RFC 5321 section 4.4; nothing else may change).
 */
export function traceFieldsAbove(read: Buffer, sent: Buffer): string[] | undefined {
  if (read.length < sent.length || !read.subarray(read.length - sent.length).equals(sent)) return undefined;
  const added = read.subarray(0, read.length - sent.length).toString('latin1');
  // Unfold, then name each field.
  const fields = added
    .replace(/\r\n[ \t]/g, ' ')
    .split('\r\n')
    .filter((l) => l !== '');
  return fields.map((f) => f.slice(0, f.indexOf(':')));
}
