#!/usr/bin/env node
// The message store program: mailboxes on the replica's volume, LMTP in, IMAP and POP3 out.
//   store [serve] --config FILE [--listen-host ADDRESS]
//   store --check-config --config FILE   checks the file, prints it as the store will use it, and stops.
import { parseArgs } from 'node:util';
import type { StoreConfig } from '../lib/contract/store.ts';
import { PATHS } from '../lib/contract/ports.ts';
import { describeError } from '../lib/errors.ts';
import { exitOnSignal } from '../lib/lifecycle.ts';
import { CHECK_CONFIG_FLAG, loadConfigInChild, printCheckedConfig } from '../lib/load-config.ts';
import { createLogger } from '../lib/log.ts';
import { createRegistry } from '../lib/metrics.ts';
import { startStore } from './store-server.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    config: { type: 'string', default: PATHS.config },
    'listen-host': { type: 'string', default: '0.0.0.0' },
    [CHECK_CONFIG_FLAG]: { type: 'boolean', default: false },
  },
});

async function serve(): Promise<void> {
  // The schema is loaded only in the child that checks the file: the store's own process, holding
  // thousands of IDLE sessions, never loads zod (images/lib/load-config.ts).
  if (values[CHECK_CONFIG_FLAG]) {
    const { storeConfig } = await import('../lib/contract/store.ts');
    process.exitCode = printCheckedConfig(values.config, storeConfig);
    return;
  }
  const config = loadConfigInChild<StoreConfig>(values.config);
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
