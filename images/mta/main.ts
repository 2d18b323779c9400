#!/usr/bin/env node
// The MTA program. One binary, four roles (the config says which):
//   mta [serve] --config FILE [--listen-host ADDRESS] [--dns-server HOST:PORT]…   run the MTA
//   mta route ADDRESS --config FILE [--json]            say where ADDRESS would go, and why
import { parseArgs } from 'node:util';
import { mtaConfig } from '../lib/contract/mta.ts';
import { PATHS } from '../lib/contract/ports.ts';
import { DirectoryClient } from '../lib/directory/directory-client.ts';
import { describeError } from '../lib/errors.ts';
import { exitOnSignal } from '../lib/lifecycle.ts';
import { loadConfigFile } from '../lib/load-config.ts';
import { createLogger } from '../lib/log.ts';
import { createRegistry } from '../lib/metrics.ts';
import { directoryLookup, startMta } from './mta-server.ts';
import { RecipientVerifier } from './delivery/recipient-probe.ts';
import { explainRoute, formatExplanation } from './explain-route.ts';
import { RECIPIENT_PROBE_CACHE_MS } from './limits.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    config: { type: 'string', default: PATHS.config },
    'listen-host': { type: 'string', default: '0.0.0.0' },
    json: { type: 'boolean', default: false },
    // Where MX, A and AAAA questions go (repeatable, "HOST[:PORT]"); absent: /etc/resolv.conf.
    'dns-server': { type: 'string', multiple: true },
    // The SMTP port of MX hosts: 25, except for tests on loopback without privileged ports.
    'mx-port': { type: 'string' },
  },
});

const command = positionals[0] ?? 'serve';

async function serve(): Promise<void> {
  const config = loadConfigFile(values.config, mtaConfig);
  const logger = createLogger({
    program: 'mta',
    level: config.common.logLevel,
    base: { role: config.role, host: config.common.hostname },
  });
  const registry = createRegistry('mta');
  const mta = await startMta({
    config,
    logger,
    registry,
    listenHost: values['listen-host'],
    ...(values['dns-server'] ? { dnsServers: values['dns-server'] } : {}),
    ...(values['mx-port'] ? { mxPort: Number(values['mx-port']) } : {}),
  });
  logger.info({ ports: mta.ports, httpPort: mta.httpPort }, 'mta started');
  exitOnSignal(mta, logger, 'stopped; the queue stays on disk');
}

async function route(address: string | undefined): Promise<void> {
  if (!address) {
    process.stderr.write('usage: mta route ADDRESS --config FILE [--json]\n');
    process.exit(2);
  }
  const config = loadConfigFile(values.config, mtaConfig);
  const directory =
    config.role === 'inbound' || config.role === 'outbound'
      ? new DirectoryClient({ config: config.directory })
      : undefined;
  // The edge answers RCPT by asking the inbound tier; so does its explainer.
  const verifier =
    config.role === 'internet'
      ? new RecipientVerifier({
          host: config.relayTo.host,
          port: config.relayTo.port,
          name: config.common.hostname,
          tls: config.relayTo.tls,
          cacheTtlMs: RECIPIENT_PROBE_CACHE_MS,
        })
      : undefined;
  try {
    const explanation = await explainRoute(config, address, directoryLookup(directory), verifier);
    process.stdout.write(
      values.json ? `${JSON.stringify(explanation, null, 2)}\n` : formatExplanation(config.role, explanation),
    );
  } finally {
    verifier?.close();
    await directory?.close();
  }
}

const run = command === 'route' ? () => route(positionals[1]) : command === 'serve' ? serve : undefined;
if (!run) {
  process.stderr.write(`unknown command ${command}; try "serve" or "route ADDRESS"\n`);
  process.exit(2);
}
run().catch((error: unknown) => {
  process.stderr.write(`mta: ${describeError(error)}\n`);
  process.exit(1);
});
