// Loopback ports for test servers, free now and promised to nobody else on this machine, so parallel
// test files (node --test runs each in its own process), two developers' suites, or CI beside a local
// run never collide.
//
// Two ways a port picked by binding port 0 was lost before its server bound it (EADDRINUSE at start,
// seen in CI): another test process was handed the same just-closed port by the kernel, or an
// outgoing connection took it as its local port, since port 0 picks from the ephemeral range that
// connect() uses too. So ports come from below the ephemeral range, where no connect() lands, and
// each is claimed with a lock file naming its owner's PID; a claim whose owner is gone is stale and
// is taken over.
import { createServer } from 'node:net';
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const claimsDir = join(tmpdir(), 'mtopo-test-ports');
const lowestPort = 10_000;
const claimedHere = new Set<number>();
/**
 * Ports the fetch standard blocks (its "bad ports"; undici refuses them with "fetch failed: bad
 * port"), for those in our range: a test that reached a server there with fetch() failed at random.
 */
const fetchBlocked = new Set([10080]);

function ephemeralRangeStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const value = Number(low);
    return Number.isInteger(value) && value > lowestPort + 1_000 ? value : 32_768;
  } catch {
    return 32_768;
  }
}

const highestPort = ephemeralRangeStart() - 1;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims `port` for this process; false if another live process holds it. Exported for its test. */
export function claim(port: number): boolean {
  const path = join(claimsDir, String(port));
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let owner: number;
      try {
        owner = Number(readFileSync(path, 'utf8'));
      } catch {
        continue; // released between our open and read: try again
      }
      // An empty file is a claim being written right now.
      if (!Number.isInteger(owner) || owner <= 0 || isAlive(owner)) return false;
      try {
        unlinkSync(path);
      } catch {
        return false;
      }
    }
  }
  return false;
}

export function release(port: number): void {
  try {
    unlinkSync(join(claimsDir, String(port)));
  } catch {
    // already gone
  }
}

process.once('exit', () => {
  for (const port of claimedHere) release(port);
});

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** `count` distinct free loopback ports, claimed for this process until it exits. */
export async function freePorts(count: number): Promise<number[]> {
  mkdirSync(claimsDir, { recursive: true, mode: 0o1777 });
  const picked: number[] = [];
  const span = highestPort - lowestPort + 1;
  for (let tries = 0; picked.length < count; tries += 1) {
    if (tries > 10_000) throw new Error(`no free loopback port in ${lowestPort}-${highestPort}`);
    const port = lowestPort + Math.floor(Math.random() * span);
    if (fetchBlocked.has(port) || claimedHere.has(port) || !claim(port)) continue;
    if (!(await bindable(port))) {
      release(port);
      continue;
    }
    claimedHere.add(port);
    picked.push(port);
  }
  return picked;
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('no free port');
  return port;
}
