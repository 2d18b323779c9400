// One SMTP transaction by Python's smtplib from a zone's address, reported step by step (the reply
// to EHLO, STARTTLS, MAIL, RCPT and DATA, stopping at the first refusal), so a test can say at which step a
// server refused and with what. swaks gives a transcript to search; this gives the steps.
import { run } from '../../testing/support/processes.ts';
import type { OutsideNetwork } from '../outside/outside-network.ts';

export interface SmtpStep {
  /** CONNECT, EHLO, STARTTLS, MAIL, RCPT or DATA. */
  readonly step: string;
  /** The reply code; 0 when the connection failed without one. */
  readonly code: number;
  readonly text: string;
}

export interface Transaction {
  readonly from: string;
  readonly to: string;
  /** SIZE= declared on MAIL FROM (smtplib declares none unless asked). */
  readonly declareSize?: number;
  /** Send a message of about this many bytes (lines of 1,000 bytes) after an accepted RCPT. */
  readonly bodyBytes?: number;
  readonly subject?: string;
  /** The whole message to send as DATA (CRLF line ends; UTF-8 is sent with BODY=8BITMIME). */
  readonly message?: string;
  /** STARTTLS before MAIL, checking the server's certificate for `hostname` against `caFile`. */
  readonly tls?: { readonly hostname: string; readonly caFile: string };
}

const SCRIPT = String.raw`
import json, smtplib, socket, ssl, sys
a = json.loads(sys.argv[1])
steps = []
def note(step, code, text):
    steps.append({'step': step, 'code': code, 'text': text.decode(errors='replace') if isinstance(text, bytes) else str(text)})
    return code < 400
class Client(smtplib.SMTP):
    # Connects to the server's address from the zone's; TLS (if asked) checks the named host.
    def _get_socket(self, host, port, timeout):
        return socket.create_connection((a['host'], port), timeout, source_address=(a['source'], 0))
if a.get('message') is not None:
    message = a['message'].encode('utf-8')
else:
    message = (('Subject: %s\r\n\r\n' % a.get('subject', 'e2e')) + ('x' * 998 + '\r\n') * (a.get('bodyBytes', 0) // 1000)).encode()
options = ['SIZE=%d' % a['declareSize']] if a.get('declareSize') else []
if any(b > 127 for b in message):
    options.append('BODY=8BITMIME')
step = 'CONNECT'
try:
    s = Client(a['tls']['hostname'] if a.get('tls') else a['host'], a['port'], local_hostname='client.example.org', timeout=120)
    step = 'EHLO'
    ok = note(step, *s.ehlo())
    if ok and a.get('tls'):
        step = 'STARTTLS'
        ok = note(step, *s.starttls(context=ssl.create_default_context(cafile=a['tls']['caFile'])))
        if ok:
            step = 'EHLO'
            ok = note(step, *s.ehlo())
    if ok:
        step = 'MAIL'
        if note(step, *s.mail(a['from'], options)):
            step = 'RCPT'
            if note(step, *s.rcpt(a['to'])) and (a.get('bodyBytes') or a.get('message') is not None):
                step = 'DATA'
                note(step, *s.data(message))
    s.quit()
except smtplib.SMTPResponseException as e:
    note(step, e.smtp_code, e.smtp_error)
except Exception as e:
    if not steps or steps[-1]['code'] < 400:
        note(step, 0, repr(e))
print(json.dumps(steps))
`;

export async function smtpSteps(
  outside: OutsideNetwork,
  source: string,
  server: { host: string; port: number },
  transaction: Transaction,
): Promise<SmtpStep[]> {
  const [command, args] = outside.wrap('/usr/bin/python3', [
    '-c',
    SCRIPT,
    JSON.stringify({ ...transaction, host: server.host, port: server.port, source }),
  ]);
  const result = await run(command, args, { timeoutMs: 180_000 });
  if (result.code !== 0) throw new Error(`smtplib failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as SmtpStep[];
}

/** The first refusal (4xx, 5xx, or a connection that failed), or undefined when every step passed. */
export function firstRefusal(steps: readonly SmtpStep[]): SmtpStep | undefined {
  return steps.find((s) => s.code === 0 || s.code >= 400);
}

/** For assertion messages. */
export function describeSteps(steps: readonly SmtpStep[]): string {
  return steps.map((s) => `${s.step} → ${s.code} ${s.text}`).join('; ');
}
