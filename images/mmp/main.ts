#!/usr/bin/env node
// The Messaging Multiplexor: node images/mmp/main.ts --config FILE [--listen-host ADDRESS] [--admin-socket PATH]
//   --check-config --config FILE   checks the file, prints it as the MMP will use it, and stops.
// First: V8's settings apply to what the modules below allocate.
import './v8-settings.ts';
import { parseArgs } from 'node:util';
import type { MmpConfig } from '../lib/contract/mmp.ts';
import { PATHS } from '../lib/contract/ports.ts';
import { describeError } from '../lib/errors.ts';
import { exitOnSignal } from '../lib/lifecycle.ts';
import { CHECK_CONFIG_FLAG, loadConfigInChild, printCheckedConfig } from '../lib/load-config.ts';
import { createLogger } from '../lib/log.ts';
import { createRegistry } from '../lib/metrics.ts';
import { DEFAULT_ADMIN_SOCKET } from './admin-socket.ts';
import { startMmp } from './mmp-server.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: PATHS.config },
    'listen-host': { type: 'string', default: '0.0.0.0' },
    'admin-socket': { type: 'string', default: DEFAULT_ADMIN_SOCKET },
    [CHECK_CONFIG_FLAG]: { type: 'boolean', default: false },
    // Tests only: a shorter floor for failed logins, a shorter time to log in (milliseconds), a
    // memory collection after this quiet time whatever the growth.
    'failure-floor-ms': { type: 'string' },
    'pre-login-timeout-ms': { type: 'string' },
    'collect-when-quiet-ms': { type: 'string' },
  },
});

async function serve(): Promise<void> {
  // The schema is loaded only here, in the child that checks the file (or a user's check): the
  // MMP's own process never loads zod.
  if (values[CHECK_CONFIG_FLAG]) {
    const { mmpConfig } = await import('../lib/contract/mmp.ts');
    process.exitCode = printCheckedConfig(values.config, mmpConfig);
    return;
  }
  const config = loadConfigInChild<MmpConfig>(values.config);
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
