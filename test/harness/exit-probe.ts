// Helper process for the harness self-test: creates a 1-host lab with a fake daemon, prints what it
// made as one JSON line, then ends WITHOUT calling destroy(): mode "exit" calls process.exit(0) as
// soon as a line arrives on stdin, mode "signal" waits for a signal. The exit/signal hooks of
// hosts.ts must clean up.
import { fileURLToPath } from 'node:url';
import { createLab } from './hosts.js';

const mode = process.argv[2] ?? 'exit';
const lab = await createLab({ hosts: 1 });
const h = lab.host(1);
await h.startDaemon([], { command: [process.execPath, fileURLToPath(new URL('./fake-daemon.js', import.meta.url))] });
const res = await h.api('GET', '/info');
const info = res.json as { containerPid: number; containerCgroup: string };
process.stdout.write(JSON.stringify({ name: lab.name, dir: lab.dir, netns: [lab.netns, h.netns], daemonPid: h.daemonPid, ...info }) + '\n');
if (mode === 'exit') process.stdin.once('data', () => process.exit(0));
else setInterval(() => undefined, 1000); // wait for the signal
