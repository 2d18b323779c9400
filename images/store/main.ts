#!/usr/bin/env node
// The message store program: mailboxes on the replica's volume, LMTP in, IMAP and POP3 out.
//   store [serve] --config FILE [--listen-host ADDRESS]
import { parseArgs } from 'node:util';
import { storeConfig } from '../lib/contract/store.ts';
import { PATHS } from '../lib/contract/ports.ts';
import { describeError } from '../lib/errors.ts';
import { exitOnSignal } from '../lib/lifecycle.ts';
import { loadConfigFile } from '../lib/load-config.ts';
import { createLogger } from '../lib/log.ts';
import { createRegistry } from '../lib/metrics.ts';
import { startStore } from './store-server.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    config: { type: 'string', default: PATHS.config },
    'listen-host': { type: 'string', default: '0.0.0.0' },
  },
});

async function serve(): Promise<void> {
  const config = loadConfigFile(values.config, storeConfig);
  const logger = createLogger({
    program: 'store',
    level: config.common.logLevel,
    base: { host: config.common.hostname },
  });
  const registry = createRegistry('store');
  const store = await startStore({ config, logger, registry, listenHost: values['listen-host'] });
  logger.info({ ports: store.ports, httpPort: store.httpPort, dataDir: config.dataDir }, 'store started');
  exitOnSignal(store, logger);
}

const command = positionals[0] ?? 'serve';
if (command !== 'serve') {
  process.stderr.write(`unknown command ${command}; try "serve"\n`);
  process.exit(2);
}
serve().catch((error: unknown) => {
  process.stderr.write(`store: ${describeError(error)}\n`);
  process.exit(1);
});
