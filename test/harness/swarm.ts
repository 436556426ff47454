// A lab whose hosts form a swarm: daemons started, busybox imported on every host, h1 inits the
// swarm (advertising its lab address), the next `managers - 1` hosts join as managers and the rest
// as workers, all with the real docker CLI, as a user would.
import { createLab, type Host, type Lab } from './hosts.js';
import { importBusybox } from './busybox.js';

export async function createSwarmLab(o: { hosts: number; managers?: number }): Promise<Lab> {
  const lab = await createLab({ hosts: o.hosts });
  try {
    const h = lab.hosts;
    await Promise.all(h.map((x) => x.startDaemon()));
    await Promise.all(h.map((x) => importBusybox(x)));
    const docker = async (x: Host, args: string[]): Promise<string> => {
      const r = await x.docker(args, { timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(`[${x.name}] docker ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
      return r.stdout.trim();
    };
    await docker(h[0], ['swarm', 'init', '--advertise-addr', h[0].addr]);
    const managers = o.managers ?? 1;
    for (const [i, x] of h.slice(1).entries()) {
      const token = await docker(h[0], ['swarm', 'join-token', '-q', i + 1 < managers ? 'manager' : 'worker']);
      await docker(x, ['swarm', 'join', '--token', token, `${h[0].addr}:2377`]);
    }
    return lab;
  } catch (err) {
    await lab.destroy().catch(() => undefined);
    throw err;
  }
}
