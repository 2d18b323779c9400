// What the outbound MTA offers, asked once at start (a greeting, an EHLO in clear, QUIT), so that
// the first submission clients are offered the MTA's own extensions and limits (its SIZE) rather
// than a guess. Every relayed session's EHLO after XCLIENT updates the list afterwards.
import { connect } from 'node:net';
import { SmtpReplyReader, type SmtpReply } from '../../lib/smtp/reply-reader.ts';

/** The EHLO reply lines, or undefined when the MTA did not answer within `timeoutMs`. */
export function probeRelay(
  target: { host: string; port: number },
  hostname: string,
  timeoutMs = 5000,
): Promise<readonly string[] | undefined> {
  return new Promise((resolve) => {
    const socket = connect(target);
    const reader = new SmtpReplyReader();
    let replies = 0;
    const done = (lines: readonly string[] | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(lines);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('error', () => done(undefined));
    socket.on('close', () => done(undefined));
    socket.on('data', (chunk) => {
      let got: SmtpReply[];
      try {
        got = reader.push(chunk.toString('latin1'));
      } catch {
        return done(undefined);
      }
      for (const reply of got) {
        if (++replies === 1) {
          if (reply.code !== 220) return done(undefined);
          socket.write(`EHLO ${hostname}\r\n`);
        } else {
          socket.write('QUIT\r\n');
          return done(reply.code === 250 ? reply.lines : undefined);
        }
      }
    });
  });
}
