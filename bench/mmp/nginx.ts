// nginx's mail proxy for the benchmark: `nginx -p DIR -c DIR/nginx.conf` in the foreground, IMAP in
// clear, one worker (the MMP is one Node process), auth_http to bench/mmp/auth-http.ts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../testing/support/free-ports.ts';
import { ManagedProcess } from '../../testing/support/processes.ts';
import { waitForPort } from '../../testing/support/wait.ts';

export async function startNginxMail(dir: string, authPort: number, capabilities: string[]) {
  const port = await freePort();
  writeFileSync(
    join(dir, 'nginx.conf'),
    `load_module /usr/lib/nginx/modules/ngx_mail_module.so;
daemon off;
worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 20000; }
mail {
  server_name localhost;
  auth_http 127.0.0.1:${authPort}/auth;
  imap_capabilities ${capabilities.join(' ')};
  server {
    listen 127.0.0.1:${port};
    protocol imap;
  }
}
`,
  );
  const proc = ManagedProcess.spawn(
    'nginx',
    '/usr/sbin/nginx',
    ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf')],
    {
      logFile: join(dir, 'nginx.stdout'),
    },
  );
  await waitForPort(port);
  return { port, process: proc, stop: () => proc.stop() };
}
