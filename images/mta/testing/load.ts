// A load generator that remembers exactly which messages the MTA acknowledged: several Nodemailer
// SMTP connections send numbered messages, and a message counts as acknowledged only when its 250
// came back. After a crash those are the ones that must all arrive.
import SMTPConnection from 'nodemailer/lib/smtp-connection';

export interface LoadResult {
  acknowledged: string[];
  /** Sessions that broke (expected when the server is killed under load). */
  errors: number;
}

export interface LoadOptions {
  port: number;
  tag: string;
  messages: number;
  sessions: number;
  to: string;
  /** Called after every acknowledgement with the count so far and the message's id. */
  onAck?: (count: number, id: string) => void;
  /** Stop sending once this returns true. */
  stop?: () => boolean;
}

function open(port: number): Promise<SMTPConnection> {
  return new Promise((resolve, reject) => {
    const c = new SMTPConnection({
      host: '127.0.0.1',
      port,
      ignoreTLS: true,
      logger: false,
      connectionTimeout: 5000,
      socketTimeout: 10_000,
    });
    c.once('error', reject);
    c.connect((error) => {
      if (error) reject(error);
      else {
        c.removeListener('error', reject);
        c.on('error', () => undefined);
        resolve(c);
      }
    });
  });
}

export async function sendLoad(options: LoadOptions): Promise<LoadResult> {
  const acknowledged: string[] = [];
  let next = 0;
  let errors = 0;
  const worker = async () => {
    let connection: SMTPConnection | undefined;
    while (next < options.messages && !options.stop?.()) {
      const id = `${options.tag}-${next++}`;
      try {
        connection ??= await open(options.port);
        const c = connection;
        await new Promise<void>((resolve, reject) => {
          c.send(
            { from: 'load@elsewhere.example', to: [options.to] },
            `Message-ID: <${id}@load.test>\r\nSubject: ${id}\r\n\r\n${'x'.repeat(1000)}\r\n`,
            (error) => (error ? reject(error) : resolve()),
          );
        });
        acknowledged.push(id);
        options.onAck?.(acknowledged.length, id);
      } catch {
        errors++;
        connection?.close();
        // The server is gone (killed): this worker is done.
        return;
      }
    }
    connection?.quit();
  };
  await Promise.all(Array.from({ length: options.sessions }, worker));
  return { acknowledged, errors };
}
