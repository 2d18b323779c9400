// COMPRESS=DEFLATE (RFC 4978): the tagged OK goes out uncompressed, everything after it deflated.
import { bad, defineCommand, no, ok } from '../command.ts';

export const compress = defineCommand({
  name: 'COMPRESS',
  states: ['authenticated', 'selected'],
  grammar: ['atom'],
  handle(session, [mechanism], tag) {
    if (mechanism.toUpperCase() !== 'DEFLATE') return Promise.resolve(bad('Only DEFLATE is supported'));
    const start = session.transport.startCompression;
    if (session.compressed || !start)
      return Promise.resolve(no('Compression is already active', 'COMPRESSIONACTIVE'));
    session.status(tag, 'OK', 'DEFLATE active');
    start();
    session.compressed = true;
    return Promise.resolve({ ...ok(''), silent: true });
  },
});
