// A stand-in daemon for the harness self-test (NOT shoald): takes shoald's per-host flags and
// behaves like a daemon as far as the harness can tell:
//  - writes --pidfile, answers GET /_ping on -H unix://SOCK, GET /info with what it sees;
//  - mounts a tmpfs at DATA_ROOT/mnt once (a restarted daemon in the same persistent mount
//    namespace finds it: /info.mountFoundFrom = pid that mounted it);
//  - starts one detached "container" (sleep) in its own session and in the cgroup
//    /sys/fs/cgroup/memory/<own cgroup>/<cgroup-parent>/fake-<pid> (where runc puts a relative
//    cgroup parent), which outlives a SIGKILL of the daemon; writes /run/fake-daemon (private /run);
//  - on SIGTERM exits cleanly (a graceful daemon would stop its containers; this one leaves
//    the "container" to exercise Lab.destroy()), or ignores it with FAKE_DAEMON_IGNORE_SIGTERM=1.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const flag = (name: string): string => {
  const i = args.indexOf(name);
  if (i < 0 || i + 1 >= args.length) throw new Error(`fake-daemon: missing ${name}`);
  return args[i + 1]!;
};
const dataRoot = flag('--data-root');
const execRoot = flag('--exec-root');
const sock = flag('-H').replace(/^unix:\/\//, '');
const pidFile = flag('--pidfile');
const cgroupParent = flag('--cgroup-parent');
const log = (m: string): void => { process.stdout.write(`${new Date().toISOString()} fake-daemon[${process.pid}] ${m}\n`); };

fs.writeFileSync(pidFile, `${process.pid}\n`);

const mnt = path.join(dataRoot, 'mnt');
fs.mkdirSync(mnt, { recursive: true });
const mounted = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === mnt);
let mountFoundFrom: number | undefined;
if (mounted) {
  mountFoundFrom = Number(fs.readFileSync(path.join(mnt, 'owner'), 'utf8'));
  log(`found tmpfs at ${mnt}, mounted by pid ${mountFoundFrom}`);
} else {
  const r = spawn('mount', ['-t', 'tmpfs', 'fake', mnt], { stdio: 'inherit' });
  await new Promise((res) => r.on('exit', res));
  fs.writeFileSync(path.join(mnt, 'owner'), String(process.pid));
  log(`mounted tmpfs at ${mnt}`);
}

// the "container": own session, own cgroup, survives the daemon
const ctr = spawn('sleep', ['3600'], { detached: true, stdio: 'ignore' });
ctr.unref();
// like runc's cgroupfs driver with a relative cgroup parent: below the daemon's own memory cgroup
const ownMemCg = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.split(':')[1]?.split(',').includes('memory'))?.split(':')[2] ?? '/';
const cg = path.join('/sys/fs/cgroup/memory', ownMemCg, cgroupParent, `fake-${process.pid}`);
fs.mkdirSync(cg, { recursive: true });
fs.writeFileSync(path.join(cg, 'cgroup.procs'), String(ctr.pid));
fs.mkdirSync(execRoot, { recursive: true });
fs.writeFileSync(path.join(execRoot, `ctr-${process.pid}.pid`), String(ctr.pid));
log(`container pid ${ctr.pid} in ${cg}`);
fs.writeFileSync('/run/fake-daemon', String(process.pid));

try { fs.unlinkSync(sock); } catch { /* no stale socket */ }
const server = http.createServer((req, res) => {
  if (req.url === '/_ping') { res.end('OK'); return; }
  if (req.url === '/info') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({
      pid: process.pid,
      hostname: os.hostname(),
      netdevs: fs.readdirSync('/sys/class/net').sort(),
      mountFoundFrom,
      containerPid: ctr.pid,
      containerCgroup: cg,
    }));
    return;
  }
  res.statusCode = 404;
  res.end('{"message":"page not found"}');
});
server.listen(sock, () => log(`listening on ${sock}`));
process.on('SIGTERM', () => {
  if (process.env.FAKE_DAEMON_IGNORE_SIGTERM === '1') { log('SIGTERM: ignored'); return; }
  log('SIGTERM: shutting down');
  server.close();
  try { fs.unlinkSync(sock); } catch { /* gone */ }
  try { fs.unlinkSync(pidFile); } catch { /* gone */ }
  process.exit(0);
});
