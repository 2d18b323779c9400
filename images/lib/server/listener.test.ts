// The kit's listener over real loopback sockets, with a one-line protocol standing in for SMTP or
// IMAP: "BUSY" makes a session busy until "DONE"; the goodbye is "BYE".
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { listenerConfig } from '../contract/common.ts';
import { buildProxyHeader } from './proxy-protocol.ts';
import { startListener, type AcceptedConnection, type Listener } from './listener.ts';

const logger = pino({ level: 'silent' });
const opened: Socket[] = [];
after(() => {
  for (const s of opened) s.destroy();
});

async function lineProtocol(
  proxyProtocol: 'none' | 'v2' = 'none',
  proxy: { from?: string[]; others?: 'refuse' | 'direct' } = { from: ['127.0.0.1'] },
) {
  const seen: AcceptedConnection[] = [];
  const refused: string[] = [];
  const listener: Listener = await startListener({
    config: {
      name: 'test',
      protocol: 'imap',
      port: 0,
      tls: 'none',
      proxyProtocol,
      ...(proxy.from ? { proxyProtocolFrom: proxy.from } : {}),
      ...(proxy.others ? { proxyProtocolOthers: proxy.others } : {}),
      maxConnections: 10,
      maxConnectionsPerClient: 10,
    },
    host: '127.0.0.1',
    logger,
    onRefused: (reason) => refused.push(reason),
    onConnection: (c) => {
      seen.push(c);
      let busy = false;
      c.socket.setEncoding('utf8');
      c.socket.on('data', (line: string) => {
        if (line.startsWith('BUSY')) busy = true;
        if (line.startsWith('DONE')) {
          busy = false;
          c.socket.write('OK\r\n');
        }
      });
      // The listener hands a socket over paused when it has PROXY on; a protocol starts reading.
      c.socket.resume();
      c.socket.write(`HELLO ${c.remoteAddress} ${c.connectionsFromClient}\r\n`);
      return { isIdle: () => !busy, goodbye: () => c.socket.end('BYE\r\n') };
    },
  });
  return { listener, seen, refused };
}

function client(
  port: number,
  first?: Buffer,
  localAddress = '127.0.0.1',
): Promise<{ socket: Socket; text: () => string; ended: Promise<void> }> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect({ port, host: '127.0.0.1', localAddress }, () => {
      if (first) socket.write(first);
      resolve({ socket, text: () => text, ended });
    });
    opened.push(socket);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', () => undefined);
    const ended = new Promise<void>((r) => socket.once('close', () => r()));
  });
}

const until = async (what: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('startListener', () => {
  it('counts connections per client address, across the session', async () => {
    const { listener } = await lineProtocol();
    const a = await client(listener.port);
    const b = await client(listener.port);
    await until(() => b.text().includes('HELLO'));
    assert.match(a.text(), /^HELLO 127\.0\.0\.1 1/);
    assert.match(b.text(), /^HELLO 127\.0\.0\.1 2/);
    a.socket.destroy();
    await until(() => listener.clients.count('127.0.0.1') === 1);
    await listener.drain(1000);
  });

  it('takes the client address from a PROXY v2 header, and refuses a connection without one', async () => {
    const { listener, seen } = await lineProtocol('v2');
    const header = buildProxyHeader(
      'v2',
      { address: '203.0.113.7', port: 40000 },
      { address: '127.0.0.1', port: 1143 },
    );
    const proxied = await client(listener.port, header);
    await until(() => proxied.text().includes('HELLO'));
    assert.equal(seen[0]?.remoteAddress, '203.0.113.7');
    assert.equal(seen[0]?.proxied, true);
    const bare = await client(listener.port, Buffer.from('A1 LOGIN x y\r\n'));
    await bare.ended;
    assert.equal(bare.text(), '', 'no session without the header');
    await listener.drain(1000);
  });

  const spoofed = buildProxyHeader(
    'v2',
    { address: '203.0.113.66', port: 40000 },
    { address: '127.0.0.1', port: 1143 },
  );

  it('refuses a peer outside proxyProtocolFrom before reading its header', async () => {
    const { listener, seen, refused } = await lineProtocol('v2', { from: ['127.0.0.1/32'] });
    const spoofer = await client(listener.port, spoofed, '127.0.0.2');
    await spoofer.ended;
    assert.equal(spoofer.text(), '', 'no session for a peer that may not speak for a client');
    assert.deepEqual(seen, []);
    assert.deepEqual(refused, ['untrusted-proxy']);
    await listener.drain(1000);
  });

  it('serves a peer outside proxyProtocolFrom as a direct client when the config says so', async () => {
    const { listener, seen, refused } = await lineProtocol('v2', {
      from: ['127.0.0.1/32'],
      others: 'direct',
    });
    const direct = await client(listener.port, Buffer.from('BUSY\r\n'), '127.0.0.2');
    await until(() => direct.text().includes('HELLO'));
    assert.match(direct.text(), /^HELLO 127\.0\.0\.2 1/);
    assert.equal(seen[0]?.proxied, false);
    // Its first bytes reach the protocol (BUSY), not a header reader.
    direct.socket.write('DONE\r\n');
    await until(() => direct.text().includes('OK'));
    // A header from such a peer is not believed: it is protocol input like any other.
    const spoofer = await client(listener.port, spoofed, '127.0.0.3');
    await until(() => spoofer.text().includes('HELLO'));
    assert.equal(seen[1]?.remoteAddress, '127.0.0.3');
    const balancer = await client(listener.port, spoofed);
    await until(() => balancer.text().includes('HELLO'));
    assert.equal(seen[2]?.remoteAddress, '203.0.113.66');
    assert.deepEqual(refused, []);
    await listener.drain(1000);
  });

  it('refuses a config that reads PROXY headers from nobody', () => {
    const base = { name: 'imap', protocol: 'imap', port: 1143, tls: 'none', proxyProtocol: 'v2' };
    assert.throws(() => listenerConfig.parse(base), /proxyProtocolFrom/);
    assert.doesNotThrow(() => listenerConfig.parse({ ...base, proxyProtocolFrom: ['10.0.0.0/8'] }));
    assert.doesNotThrow(() => listenerConfig.parse({ ...base, proxyProtocolOthers: 'direct' }));
    assert.throws(() => listenerConfig.parse({ ...base, proxyProtocolFrom: ['10.0.0.0/33'] }), /CIDR/);
  });

  it('drains: idle sessions get the goodbye at once, a busy one when it is done, new ones are not accepted', async () => {
    const { listener } = await lineProtocol();
    const idle = await client(listener.port);
    const busy = await client(listener.port);
    await until(() => busy.text().includes('HELLO'));
    busy.socket.write('BUSY\r\n');
    await new Promise((r) => setTimeout(r, 50));
    const drained = listener.drain(5000);
    await idle.ended;
    assert.match(idle.text(), /BYE\r\n$/);
    assert.doesNotMatch(busy.text(), /BYE/, 'the busy session is left to finish');
    await assert.rejects(
      new Promise((resolve, reject) => {
        const s = connect({ port: listener.port, host: '127.0.0.1' }, () => resolve(s));
        s.once('error', reject);
      }),
      'no new connections while draining',
    );
    busy.socket.write('DONE\r\n');
    await busy.ended;
    assert.match(busy.text(), /OK\r\nBYE\r\n$/);
    await drained;
  });

  it('says goodbye to a session still busy at the end of the grace period, and cuts it if it stays', async () => {
    const { listener } = await lineProtocol();
    const busy = await client(listener.port);
    await until(() => busy.text().includes('HELLO'));
    busy.socket.write('BUSY\r\n');
    await new Promise((r) => setTimeout(r, 50));
    const begun = Date.now();
    await listener.drain(300);
    await busy.ended;
    assert.match(busy.text(), /BYE\r\n$/);
    assert.ok(Date.now() - begun < 4000);
  });
});
