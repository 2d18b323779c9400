#!/usr/bin/env node
// The Messaging Multiplexor: node images/mmp/main.ts --config FILE [--listen-host ADDRESS] [--admin-socket PATH]
// First: V8's settings apply to what the modules below allocate.
import './v8-settings.ts';
import { parseArgs } from 'node:util';
import { mmpConfig } from '../lib/contract/mmp.ts';
import { PATHS } from '../lib/contract/ports.ts';
import { describeError } from '../lib/errors.ts';
import { exitOnSignal } from '../lib/lifecycle.ts';
import { loadConfigFile } from '../lib/load-config.ts';
import { createLogger } from '../lib/log.ts';
import { createRegistry } from '../lib/metrics.ts';
import { DEFAULT_ADMIN_SOCKET } from './admin-socket.ts';
import { startMmp } from './mmp-server.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: PATHS.config },
    'listen-host': { type: 'string', default: '0.0.0.0' },
    'admin-socket': { type: 'string', default: DEFAULT_ADMIN_SOCKET },
    // Tests only: a shorter floor for failed logins, a shorter time to log in (milliseconds), a
    // memory collection after this quiet time whatever the growth.
    'failure-floor-ms': { type: 'string' },
    'pre-login-timeout-ms': { type: 'string' },
    'collect-when-quiet-ms': { type: 'string' },
  },
});

async function serve(): Promise<void> {
  const config = loadConfigFile(values.config, mmpConfig);
  const logger = createLogger({
    program: 'mmp',
    level: config.common.logLevel,
    base: { host: config.common.hostname },
  });
  const mmp = await startMmp({
    config,
    logger,
    registry: createRegistry('mmp'),
    listenHost: values['listen-host'],
    adminSocket: values['admin-socket'],
    ...(values['failure-floor-ms'] ? { failureFloorMs: Number(values['failure-floor-ms']) } : {}),
    ...(values['pre-login-timeout-ms'] ? { preLoginTimeoutMs: Number(values['pre-login-timeout-ms']) } : {}),
    ...(values['collect-when-quiet-ms']
      ? { idleCollection: { quietMs: Number(values['collect-when-quiet-ms']), minGrowthMiB: 0 } }
      : {}),
  });
  logger.info({ ports: mmp.ports, httpPort: mmp.httpPort }, 'mmp started');
  exitOnSignal(mmp, logger);
}

serve().catch((error: unknown) => {
  process.stderr.write(`mmp: ${describeError(error)}\n`);
  process.exit(1);
});
