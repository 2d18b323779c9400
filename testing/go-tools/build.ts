// The bin directory of a Go tool folder (testing/control-plane, testing/helm), built by build.sh
// or found in its cache. A cached build answers at once; the first build on a machine takes
// minutes, with its progress on stderr.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const buildScript = fileURLToPath(new URL('./build.sh', import.meta.url));

export function buildGoTool(toolDir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const build = spawn('bash', [buildScript, toolDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let binDir = '';
    build.stdout.on('data', (chunk: Buffer) => (binDir += chunk.toString()));
    build.once('error', reject);
    build.once('close', (code) => {
      if (code === 0) resolve(binDir.trim());
      else reject(new Error(`${buildScript} ${toolDir} exited with ${code}`));
    });
  });
}
