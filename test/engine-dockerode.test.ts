// shoald through dockerode (the most used Node client): system calls, container lifecycle, logs
// demuxing, healthchecks, memory limits (OOM), exec over a hijacked connection, the event stream,
// and Docker's error shape. One lab, one daemon for the whole file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { PassThrough, type Readable } from 'node:stream';
import { useLab, type Host } from './harness/hosts.js';
import { sleep } from './harness/run.js';
import { until, within } from './harness/checks.js';

// dockerode ships no type declarations: a minimal shape of what this file uses
interface DockerError extends Error { statusCode?: number; json?: { message?: string } | null; reason?: string }
interface Exec {
  id: string;
  start(opts: { hijack?: boolean; stdin?: boolean; Detach?: boolean; Tty?: boolean }): Promise<Readable>;
  inspect(): Promise<{ ExitCode: number | null; Running: boolean; ProcessConfig: { entrypoint: string; arguments: string[] } }>;
}
interface Container {
  id: string;
  start(): Promise<unknown>;
  stop(opts?: { t?: number }): Promise<unknown>;
  kill(opts?: { signal?: string }): Promise<unknown>;
  remove(opts?: { force?: boolean }): Promise<unknown>;
  wait(opts?: { condition?: string }): Promise<{ StatusCode: number; Error?: { Message: string } | null }>;
  inspect(): Promise<any>;
  logs(opts: { stdout?: boolean; stderr?: boolean; follow?: boolean; tail?: number; timestamps?: boolean }): Promise<Readable | Buffer>;
  exec(opts: { Cmd: string[]; AttachStdout?: boolean; AttachStderr?: boolean; AttachStdin?: boolean; Tty?: boolean; Env?: string[]; WorkingDir?: string }): Promise<Exec>;
}
interface Docker {
  modem: { demuxStream(stream: Readable, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): void };
  ping(): Promise<Buffer | string>;
  version(): Promise<{ ApiVersion: string; Version: string; Os: string; Arch: string; MinAPIVersion?: string }>;
  info(): Promise<any>;
  listImages(opts?: { all?: boolean; filters?: string | Record<string, string[]> }): Promise<Array<{ Id: string; RepoTags: string[] | null; Size: number; Created: number }>>;
  listContainers(opts?: { all?: boolean; filters?: string | Record<string, string[]> }): Promise<Array<{ Id: string; Names: string[]; State: string; Status: string; Image: string }>>;
  createContainer(opts: Record<string, unknown>): Promise<Container>;
  getContainer(id: string): Container;
  getEvents(opts?: { since?: number; until?: number; filters?: string | Record<string, string[]> }): Promise<Readable>;
}
const DockerCtor = createRequire(import.meta.url)('dockerode') as new (opts: { socketPath: string; version?: string }) => Docker;

const T = { timeout: 90_000 };

/** demuxes a multiplexed (non-TTY) stream with dockerode's own demuxer; resolves at its end */
function demux(docker: Docker, stream: Readable): Promise<{ stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on('data', (c: Buffer) => o.push(c));
  err.on('data', (c: Buffer) => e.push(c));
  docker.modem.demuxStream(stream, out, err);
  return new Promise((resolve, reject) => {
    stream.on('error', reject);
    stream.on('end', () => resolve({ stdout: Buffer.concat(o).toString('utf8'), stderr: Buffer.concat(e).toString('utf8') }));
  });
}

async function expectError(p: Promise<unknown>): Promise<DockerError> {
  try {
    await p;
  } catch (e) {
    return e as DockerError;
  }
  assert.fail('expected the call to fail');
}

describe('engine through dockerode', () => {
  const env = useLab({ hosts: 1, busybox: true });
  const h = (): Host => env.host(1);
  let dockerCache: Docker | undefined;
  const docker = (): Docker => (dockerCache ??= new DockerCtor({ socketPath: h().socket }));

  it('ping, version, info', T, async () => {
    assert.equal(String(await docker().ping()), 'OK');
    const v = await docker().version();
    assert.equal(v.ApiVersion, '1.41');
    assert.equal(v.Os, 'linux');
    assert.ok(v.Version);
    // the versioned prefix works the same
    const v141 = await new DockerCtor({ socketPath: h().socket, version: 'v1.41' }).version();
    assert.equal(v141.ApiVersion, '1.41');
    const info = await docker().info();
    assert.equal(typeof info.Containers, 'number');
    assert.equal(info.Images >= 1, true, `Images: ${info.Images}`);
    assert.equal(info.OSType, 'linux');
    assert.equal(info.Name, 'h1', 'the hostname of the host the daemon runs on');
    assert.equal(info.Driver, 'overlay2');
    assert.ok(typeof info.MemTotal === 'number' && info.MemTotal > 0);
  });

  it('listImages shows busybox', T, async () => {
    const images = await docker().listImages();
    const bb = images.find((i) => i.RepoTags?.includes('busybox:latest'));
    assert.ok(bb, JSON.stringify(images));
    assert.match(bb.Id, /^sha256:[0-9a-f]{64}$/);
    assert.ok(bb.Size > 500_000);
    assert.ok(Math.abs(bb.Created - Date.now() / 1000) < 3600, `Created ${bb.Created}`);
  });

  it('createContainer + start + wait returns the exit code; logs demux into stdout and stderr', T, async () => {
    const c = await docker().createContainer({ Image: 'busybox', name: 'waiter', Cmd: ['sh', '-c', 'echo to-out; echo to-err >&2; echo more-out; exit 6'] });
    assert.match(c.id, /^[0-9a-f]{64}$/);
    const created = await c.inspect();
    assert.equal(created.State.Status, 'created');
    const waiting = c.wait({ condition: 'next-exit' }); // registered before start: must see this run's exit
    await c.start();
    const w = await within('wait (next-exit) of waiter', waiting, 20_000, h());
    assert.equal(w.StatusCode, 6);
    const logs = await c.logs({ stdout: true, stderr: true, follow: true });
    assert.ok(!Buffer.isBuffer(logs));
    const { stdout, stderr } = await within('logs follow of an exited container to end', demux(docker(), logs), 20_000, h());
    assert.equal(stdout, 'to-out\nmore-out\n');
    assert.equal(stderr, 'to-err\n');
    // without follow dockerode hands back the multiplexed bytes: frames of [stream, 0, 0, 0, size BE32]
    const raw = await c.logs({ stdout: true, stderr: false });
    assert.ok(Buffer.isBuffer(raw));
    assert.equal(raw[0], 1);
    assert.equal(raw.readUInt32BE(4), 'to-out\n'.length);
    assert.equal(raw.subarray(8, 8 + 7).toString(), 'to-out\n');
    // a second wait on an exited container answers at once
    assert.equal((await within('second wait of waiter', c.wait(), 20_000, h())).StatusCode, 6);
  });

  it('container.inspect describes the container', T, async () => {
    const c = docker().getContainer('waiter');
    const i = await c.inspect();
    assert.match(i.Id, /^[0-9a-f]{64}$/);
    assert.equal(i.Name, '/waiter');
    assert.equal(i.State.Status, 'exited');
    assert.equal(i.State.ExitCode, 6);
    assert.equal(i.State.Running, false);
    assert.equal(i.Config.Image, 'busybox');
    assert.deepEqual(i.Config.Cmd, ['sh', '-c', 'echo to-out; echo to-err >&2; echo more-out; exit 6']);
    assert.match(i.Image, /^sha256:[0-9a-f]{64}$/);
    assert.ok(Date.parse(i.State.FinishedAt) >= Date.parse(i.State.StartedAt));
    assert.equal(i.Path, 'sh');
    assert.deepEqual(i.Args, ['-c', 'echo to-out; echo to-err >&2; echo more-out; exit 6']);
    const list = await docker().listContainers({ all: true, filters: { name: ['waiter'] } });
    assert.equal(list.length, 1);
    assert.deepEqual(list[0]!.Names, ['/waiter']);
    assert.equal(list[0]!.State, 'exited');
    assert.match(list[0]!.Status, /^Exited \(6\) /);
  });

  it('a healthcheck turns the container unhealthy, then healthy once its test passes', T, async () => {
    const c = await docker().createContainer({
      Image: 'busybox', name: 'health', Cmd: ['sleep', '1000'],
      Healthcheck: { Test: ['CMD-SHELL', 'test -f /tmp/ok'], Interval: 200e6, Retries: 2 },
    });
    await c.start();
    const st0 = (await c.inspect()).State;
    assert.ok(st0.Health, 'State.Health exists for a container with a healthcheck');
    assert.ok(['starting', 'unhealthy'].includes(st0.Health.Status), st0.Health.Status);
    const t0 = Date.now();
    const unhealthy = await until('unhealthy', async () => {
      const s = (await c.inspect()).State;
      return s.Health?.Status === 'unhealthy' ? s : undefined;
    }, 10_000, h());
    assert.ok(Date.now() - t0 < 5000, `unhealthy after ${Date.now() - t0} ms`);
    assert.ok(unhealthy.Health.FailingStreak >= 2, `FailingStreak ${unhealthy.Health.FailingStreak}`);
    assert.ok(unhealthy.Health.Log.length >= 2);
    assert.equal(unhealthy.Health.Log.at(-1).ExitCode, 1);
    assert.equal(unhealthy.Running, true, 'unhealthy does not stop the container');
    const ls = await docker().listContainers({ filters: { health: ['unhealthy'] } });
    assert.ok(ls.some((x) => x.Id === c.id), 'health=unhealthy filter lists it');
    assert.match(ls.find((x) => x.Id === c.id)!.Status, /\(unhealthy\)$/);

    const ex = await c.exec({ Cmd: ['touch', '/tmp/ok'], AttachStdout: true, AttachStderr: true });
    await within('exec start (hijacked) of ex to end', (async () => demux(docker(), await ex.start({ hijack: true, stdin: false })))(), 20_000, h());
    assert.equal((await ex.inspect()).ExitCode, 0);
    const healthy = await until('healthy', async () => {
      const s = (await c.inspect()).State;
      return s.Health?.Status === 'healthy' ? s : undefined;
    }, 10_000, h());
    assert.equal(healthy.Health.FailingStreak, 0);
    assert.equal(healthy.Health.Log.at(-1).ExitCode, 0);
    await c.remove({ force: true });
  });

  it('enforces a memory limit: the container is OOM-killed (137, OOMKilled)', T, async () => {
    const c = await docker().createContainer({
      Image: 'busybox', name: 'hog', Cmd: ['sh', '-c', 'a=$(yes | head -c 50000000); echo survived ${#a}'],
      HostConfig: { Memory: 16 * 1024 * 1024, MemorySwap: 16 * 1024 * 1024 },
    });
    const hc = (await c.inspect()).HostConfig;
    assert.equal(hc.Memory, 16 * 1024 * 1024);
    assert.equal(hc.MemorySwap, 16 * 1024 * 1024);
    const waiting = c.wait({ condition: 'next-exit' });
    await c.start();
    const w = await within('wait (next-exit) of hog', waiting, 30_000, h());
    const logs = await within('logs of hog', (async () => demux(docker(), (await c.logs({ stdout: true, stderr: true, follow: true })) as Readable))(), 20_000, h());
    assert.equal(w.StatusCode, 137, `exit ${w.StatusCode}; output ${JSON.stringify(logs)}`);
    assert.doesNotMatch(logs.stdout, /survived/);
    const i = await c.inspect();
    assert.equal(i.State.OOMKilled, true);
    assert.equal(i.State.ExitCode, 137);
    // the same program with enough memory survives (the limit, not the program, killed it)
    const big = await docker().createContainer({
      Image: 'busybox', Cmd: ['sh', '-c', 'a=$(yes | head -c 50000000); echo survived ${#a}'],
      HostConfig: { Memory: 512 * 1024 * 1024 },
    });
    const w2 = big.wait({ condition: 'next-exit' });
    await big.start();
    assert.equal((await within('wait of the 512m container', w2, 30_000, h())).StatusCode, 0);
    const l2 = await within('logs of the 512m container', (async () => demux(docker(), (await big.logs({ stdout: true, stderr: true, follow: true })) as Readable))(), 20_000, h());
    assert.equal(l2.stdout, 'survived 49999999\n'); // $(...) strips the final newline
    assert.equal((await big.inspect()).State.OOMKilled, false);
    await big.remove();
  });

  it('exec over a hijacked connection returns output, and exec.inspect the exit code', T, async () => {
    const c = await docker().createContainer({ Image: 'busybox', name: 'execbox', Cmd: ['sleep', '1000'] });
    await c.start();
    const ex = await c.exec({ Cmd: ['sh', '-c', 'echo exec-out $FOO $(pwd); echo exec-err >&2; exit 9'], AttachStdout: true, AttachStderr: true, Env: ['FOO=bar'], WorkingDir: '/etc' });
    assert.match(ex.id, /^[0-9a-f]{64}$/);
    const before = await ex.inspect();
    assert.equal(before.Running, false);
    const out = await within('exec start (hijacked) of ex to end', (async () => demux(docker(), await ex.start({ hijack: true, stdin: false })))(), 20_000, h());
    assert.equal(out.stdout, 'exec-out bar /etc\n');
    assert.equal(out.stderr, 'exec-err\n');
    const after = await until('exec to be finished', async () => {
      const x = await ex.inspect();
      return !x.Running ? x : undefined;
    });
    assert.equal(after.ExitCode, 9);
    assert.equal(after.ProcessConfig.entrypoint, 'sh');
    // an exec that is not attached to stdout still runs and reports its code
    const quiet = await c.exec({ Cmd: ['sh', '-c', 'exit 3'] });
    await within('exec start (hijacked) of quiet to end', (async () => demux(docker(), await quiet.start({ hijack: true, stdin: false })))(), 20_000, h());
    assert.equal((await until('quiet exec', async () => { const x = await quiet.inspect(); return !x.Running ? x : undefined; })).ExitCode, 3);
    await c.remove({ force: true });
  });

  it('getEvents streams create, start and die of a container', T, async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const stream = await docker().getEvents({ filters: { type: ['container'] } });
    const events: Array<{ Type: string; Action: string; status?: string; id?: string; Actor: { ID: string; Attributes: Record<string, string> }; time: number; timeNano: number }> = [];
    let buf = '';
    stream.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line) events.push(JSON.parse(line));
      }
    });
    try {
      await sleep(200);
      const c = await docker().createContainer({ Image: 'busybox', name: 'evt', Cmd: ['sh', '-c', 'exit 4'] });
      await c.start();
      assert.equal((await within('wait (not-running) of evt', c.wait(), 20_000, h())).StatusCode, 4);
      const mine = await until('create, start, die events', async () => {
        const m = events.filter((e) => e.Actor.ID === c.id);
        return m.some((e) => e.Action === 'die') ? m : undefined;
      }, 10_000, h());
      const actions = mine.map((e) => e.Action);
      assert.ok(actions.indexOf('create') >= 0 && actions.indexOf('create') < actions.indexOf('start') && actions.indexOf('start') < actions.indexOf('die'), actions.join(','));
      const die = mine.find((e) => e.Action === 'die')!;
      assert.equal(die.Type, 'container');
      assert.equal(die.status, 'die', 'the legacy status field');
      assert.equal(die.id, c.id, 'the legacy id field');
      assert.equal(die.Actor.Attributes.name, 'evt');
      assert.equal(die.Actor.Attributes.image, 'busybox');
      assert.equal(die.Actor.Attributes.exitCode, '4');
      assert.ok(die.time >= since && die.time <= Date.now() / 1000 + 1);
      assert.equal(Math.floor(die.timeNano / 1e9), die.time);
      await c.remove();
      await until('destroy event', async () => events.some((e) => e.Actor.ID === c.id && e.Action === 'destroy'));
    } finally {
      stream.destroy();
    }
    // the same events from the past, with since/until
    const past = await docker().getEvents({ since, until: Math.floor(Date.now() / 1000) + 1, filters: { container: ['evt'] } });
    let text = '';
    await within('GET /events?since&until to end after until', (async () => { for await (const chunk of past) text += (chunk as Buffer).toString('utf8'); })(), 20_000, h());
    const actions = text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { Action: string }).Action);
    assert.ok(actions.includes('create') && actions.includes('start') && actions.includes('die') && actions.includes('destroy'), actions.join(','));
  });

  it('answers bad input with Docker\'s error shape (400 on create without image, 404 on a missing container)', T, async () => {
    const noImage = await expectError(docker().createContainer({ Cmd: ['true'] }));
    assert.equal(noImage.statusCode, 400, String(noImage));
    assert.equal(typeof noImage.json?.message, 'string');
    assert.ok(noImage.json!.message!.length > 0);
    const raw = await h().api('POST', '/v1.41/containers/create', { body: { Cmd: ['true'] } });
    assert.equal(raw.status, 400);
    assert.match(String(raw.headers['content-type']), /^application\/json/);
    assert.deepEqual(Object.keys(raw.json as object), ['message']);

    const missing = await expectError(docker().getContainer('nope').inspect());
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(missing.json, { message: 'No such container: nope' });
    const missingImage = await expectError(docker().createContainer({ Image: 'no-such-image:1', Cmd: ['true'] }));
    assert.equal(missingImage.statusCode, 404);
    assert.equal(missingImage.json?.message, 'No such image: no-such-image:1');
    const badJson = await h().api('POST', '/v1.41/containers/create', { body: '{not json', headers: { 'Content-Type': 'application/json' } });
    assert.equal(badJson.status, 400);
    assert.equal(typeof (badJson.json as { message: string }).message, 'string');
    const unknown = await h().api('GET', '/v1.41/no/such/endpoint');
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.json, { message: 'page not found' });
  });
});
