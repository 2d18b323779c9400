// Ends one user's sessions on this MMP replica and drops its login cache, after the user's mailHost
// changed (docs/mmp.md, "Moving a user"). Run inside each MMP pod:
//   node images/mmp/end-sessions.js USER [--socket PATH]
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { DEFAULT_ADMIN_SOCKET, type AdminAnswer } from './admin-socket.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { socket: { type: 'string', default: DEFAULT_ADMIN_SOCKET } },
});
const user = positionals[0];
if (!user) {
  process.stderr.write('usage: node images/mmp/end-sessions.js USER [--socket PATH]\n');
  process.exit(2);
}
const socket = connect(values.socket);
let answer = '';
socket.setEncoding('utf8');
socket.on('connect', () => socket.write(`${JSON.stringify({ command: 'end-sessions', user })}\n`));
socket.on('data', (chunk: string) => (answer += chunk));
socket.on('error', (error) => {
  process.stderr.write(`cannot reach the MMP at ${values.socket}: ${error.message}\n`);
  process.exit(1);
});
socket.on('end', () => {
  const parsed = JSON.parse(answer) as AdminAnswer;
  if (!parsed.ok) {
    process.stderr.write(`${parsed.error}\n`);
    process.exit(1);
  }
  process.stdout.write(`ended ${parsed.ended} session${parsed.ended === 1 ? '' : 's'} of ${user}\n`);
});
