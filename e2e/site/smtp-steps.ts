// One SMTP transaction by Python's smtplib from a zone's address, reported step by step (the reply
// to EHLO, MAIL, RCPT and DATA, stopping at the first refusal), so a test can say at which step a
// server refused and with what. swaks gives a transcript to search; this gives the steps.
import { run } from '../../testing/support/processes.ts';
import type { OutsideNetwork } from '../outside/outside-network.ts';

export interface SmtpStep {
  /** CONNECT, EHLO, MAIL, RCPT or DATA. */
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
}

const SCRIPT = String.raw`
import json, smtplib, sys
a = json.loads(sys.argv[1])
steps = []
def note(step, code, text):
    steps.append({'step': step, 'code': code, 'text': text.decode(errors='replace') if isinstance(text, bytes) else str(text)})
    return code < 400
step = 'CONNECT'
try:
    s = smtplib.SMTP(a['host'], a['port'], local_hostname='client.example.org', source_address=(a['source'], 0), timeout=120)
    step = 'EHLO'
    if note(step, *s.ehlo()):
        step = 'MAIL'
        if note(step, *s.mail(a['from'], ['SIZE=%d' % a['declareSize']] if a.get('declareSize') else [])):
            step = 'RCPT'
            if note(step, *s.rcpt(a['to'])) and a.get('bodyBytes'):
                step = 'DATA'
                body = 'Subject: %s\r\n\r\n' % a.get('subject', 'e2e') + ('x' * 998 + '\r\n') * (a['bodyBytes'] // 1000)
                note(step, *s.data(body))
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
