// onData: Received: header, smuggling guard, spool with fsync, and only then 250. The envelope is
// the sender and recipients parsed at MAIL and RCPT (kept in the session), not parsed again here.
//
// A message over the size limit stops being written (and held) the moment the limit is passed: the
// spool file is dropped, the rest of the stream is read and discarded, and 552 is the answer at the
// final dot (RFC 5321 section 4.5.3.1.10: the server must read the whole message before replying).
// A client that hangs up mid-message is not an error of ours: it is logged and counted as aborted.
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { describeError, isMtopoError } from '../../../lib/errors.ts';
import { newQueueId, type Envelope } from '../../core/envelope.ts';
import { receivedHeader } from '../../core/received-header.ts';
import { REPLIES } from '../../core/replies.ts';
import { SmugglingGuard } from '../../core/smuggling-guard.ts';
import type { SpoolWriter } from '../../spool/spool.ts';
import type { SessionContext } from '../session-context.ts';

type Done = (error?: Error | null, message?: string) => void;

type StreamEnd = { kind: 'ended' } | { kind: 'gone' } | { kind: 'failed'; error: unknown };

/**
 * Reads a DATA stream to its end whatever happens, so smtp-server's parser never sees message
 * bytes as commands; `onChunk` is awaited with the stream paused (back-pressure to the client).
 */
function consume(
  stream: SMTPServerDataStream,
  onChunk: (chunk: Buffer) => Promise<void>,
): Promise<StreamEnd> {
  return new Promise((resolve) => {
    let failure: unknown;
    let done = false;
    const finish = (end: StreamEnd) => {
      if (done) return;
      done = true;
      resolve(failure !== undefined ? { kind: 'failed', error: failure } : end);
    };
    stream.on('data', (chunk: Buffer) => {
      if (failure !== undefined) return;
      stream.pause();
      onChunk(chunk).then(
        () => stream.resume(),
        (error: unknown) => {
          failure = error;
          stream.resume();
        },
      );
    });
    stream.once('end', () => finish({ kind: 'ended' }));
    // A client that goes away mid-message: smtp-server destroys the stream, which never ends.
    stream.once('error', () => finish({ kind: 'gone' }));
    stream.once('close', () => finish(stream.readableEnded ? { kind: 'ended' } : { kind: 'gone' }));
  });
}

export function dataHook(context: SessionContext) {
  const { deps } = context;
  const { role, metrics } = deps;

  return function onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: Done): void {
    const state = context.state(session);
    const arrivedAt = deps.now();
    const id = newQueueId(arrivedAt);
    const log = deps.logger.child({ queueId: id, session: session.id });
    const smtpUtf8 = session.envelope.smtpUtf8 ?? false;
    const recipients = session.envelope.rcptTo.map(
      (r) => state.recipients.get(r.address)?.address ?? r.address,
    );
    const sender = state.sender?.address ?? '';
    const user = context.user(session);
    const envelope: Envelope = {
      id,
      sender,
      recipients,
      arrivedAt,
      bodyType: session.envelope.bodyType === '8bitmime' ? '8bitmime' : '7bit',
      smtpUtf8,
      client: {
        address: session.remoteAddress,
        helo: session.hostNameAppearsAs || '',
        ...(user?.kind === 'user' ? { user: user.login } : {}),
      },
    };
    const trace = receivedHeader({
      helo: session.hostNameAppearsAs || session.remoteAddress,
      clientAddress: session.remoteAddress,
      // Known only from XCLIENT NAME (reverse lookups are off); smtp-server writes "[address]" otherwise.
      ...(session.clientHostname && !session.clientHostname.startsWith('[')
        ? { clientHostname: session.clientHostname }
        : {}),
      by: deps.hostname,
      protocol: session.transmissionType || 'ESMTP',
      queueId: id,
      ...(session.tlsOptions
        ? { tls: { version: session.tlsOptions.version, cipher: session.tlsOptions.name } }
        : {}),
      recipients,
      date: new Date(arrivedAt),
    });
    const guard = new SmugglingGuard();

    void (async () => {
      let writer: SpoolWriter | undefined;
      try {
        writer = await deps.spool.create(envelope);
      } catch (error) {
        log.error({ err: describeError(error) }, 'cannot create spool file');
      }
      let dropped = false;
      const drop = async () => {
        if (dropped) return;
        dropped = true;
        await writer?.abort().catch(() => undefined);
      };
      const end = await consume(stream, async (chunk) => {
        if (!writer || dropped) return;
        // Past the limit nothing more is written or kept: the rest is read and thrown away.
        if (stream.sizeExceeded) return drop();
        if (writer.size === 0) await writer.write(Buffer.from(trace, 'latin1'));
        await writer.write(guard.push(chunk));
      });
      if (end.kind === 'gone') {
        await drop();
        metrics.sessionsAborted.inc({ role, stage: 'data' });
        log.info(
          { client: session.remoteAddress, received: stream.byteLength, code: 'ECONNECTION' },
          'client went away mid-message',
        );
        return callback(new Error('client went away'));
      }
      if (!writer) return callback(context.refuse('data', REPLIES.queueFailure, session));
      const w = writer;
      try {
        if (end.kind === 'failed')
          throw end.error instanceof Error ? end.error : new Error('the message could not be read');
        if (stream.sizeExceeded || dropped) {
          await drop();
          return callback(
            context.refuse('data', REPLIES.messageTooBig, session, {
              received: stream.byteLength,
              code: 'ELIMIT',
            }),
          );
        }
        if (w.size === 0) await w.write(Buffer.from(trace, 'latin1'));
        await w.write(guard.end());
        if (guard.smuggling) {
          await w.abort();
          metrics.smugglingRefused.inc({ role });
          return callback(context.refuse('data', REPLIES.smuggling, session, { code: 'EMESSAGE' }));
        }
        if (guard.bareLineEndings > 0) metrics.bareLineEndings.inc({ role }, guard.bareLineEndings);
        // The message is on disk and synced before the 250 goes out.
        const stored = await w.commit();
        metrics.messagesReceived.inc({ role });
        context.accepted('data');
        log.info(
          {
            from: sender,
            rcpts: recipients.length,
            size: stored.size,
            client: session.remoteAddress,
            user: envelope.client.user,
          },
          'queued',
        );
        callback(null, `Ok: queued as ${id}`);
        deps.onQueued(stored);
      } catch (error) {
        await w.abort().catch(() => undefined);
        log.error(
          { err: describeError(error), code: isMtopoError(error) ? error.code : undefined },
          'cannot queue message',
        );
        callback(context.refuse('data', REPLIES.queueFailure, session));
      }
    })();
  };
}
