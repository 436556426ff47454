// Detach keys: the CLIs on a pseudo-terminal (`run -it`, `attach`, `exec -it`, default ctrl-p
// ctrl-q and custom --detach-keys) leave the container running and can attach again; the daemon
// watches the stdin of TTY attach and exec sessions itself (raw API clients: passing partial
// sequences through, ending the session on the full one, detach/exec_detach events, bad keys).
// One lab, one daemon for the whole file.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { useLab, dockerBinary, repoRoot, type Host } from './harness/hosts.js';
import { shq, sleep } from './harness/run.js';
import { dockerEnv, dockerOk, shoalOk, until } from './harness/checks.js';
import { killPtys, PROMPT, Pty } from './harness/pty.js';

const T = { timeout: 90_000 };

/** A hijacked API connection (HTTP Upgrade), as the docker CLI opens for attach and exec start. */
class RawSession {
  private sock: net.Socket;
  out = Buffer.alloc(0);
  status = 0;
  readonly closed: Promise<void>;
  readonly ready: Promise<void>;

  constructor(socketPath: string, urlPath: string, body?: unknown) {
    this.sock = net.connect(socketPath);
    const payload = body === undefined ? '' : JSON.stringify(body);
    this.sock.write(`POST ${urlPath} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n`
      + (payload ? `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n` : '') + `\r\n${payload}`);
    let head = '';
    let resolveReady: () => void = () => {};
    let rejectReady: (e: Error) => void = () => {};
    this.ready = new Promise((res, rej) => { resolveReady = res; rejectReady = rej; });
    this.sock.on('data', (d: Buffer) => {
      if (!this.status) {
        head += d.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        this.status = Number(head.split(' ')[1]);
        this.out = Buffer.from(head.slice(end + 4), 'latin1');
        if (this.status === 101) resolveReady(); else rejectReady(new Error(`HTTP ${this.status}: ${this.out.toString()}`));
        return;
      }
      this.out = Buffer.concat([this.out, d]);
    });
    this.sock.on('error', () => undefined);
    this.closed = new Promise((res) => this.sock.on('close', () => res()));
  }

  write(s: string | Buffer): void { this.sock.write(s); }
  text(): string { return this.out.toString('latin1'); }
  async expect(re: RegExp, ms = 10_000): Promise<void> {
    await until(`${re} in the session's output`, async () => re.test(this.text()), ms).catch((e: Error) => { throw new Error(`${e.message}\noutput: ${JSON.stringify(this.text())}`); });
  }
  destroy(): void { this.sock.destroy(); }
}

const sessions: RawSession[] = [];
after(() => {
  killPtys();
  for (const s of sessions) s.destroy();
});

/** resolves true when p settles within ms */
const settles = (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => true), sleep(ms).then(() => false)]);

describe('detach keys', () => {
  const env = useLab({ hosts: 1, busybox: true });
  const h = (): Host => env.host(1);
  const shoalCmd = (): string => `${shq(path.join(repoRoot(), 'bin', 'shoal'))} -H ${shq(h().dockerHost)}`;
  const D = shq(dockerBinary());
  const status = async (name: string) => dockerOk(h(), ['inspect', '-f', '{{.State.Status}}', name]);
  const session = (urlPath: string, body?: unknown) => { const s = new RawSession(h().socket, urlPath, body); sessions.push(s); return s; };

  it('shoal run -it: ctrl-p ctrl-q leaves the container running; shoal attach types into it again and detaches', T, async () => {
    const run = new Pty(`${shoalCmd()} run -it --name tx busybox sh`);
    await run.expect(PROMPT);
    run.write('echo one-$((1+1))\r');
    await run.expect(/one-2\r\n/);
    run.write('\x10');
    await sleep(200);
    run.write('\x11');
    assert.equal(await run.exitCode(), 0, `shoal run -it exits 0 on detach, like docker run\n${run.out}`);
    assert.equal(await shoalOk(h(), ['ps', '--filter', 'name=^tx$', '--format', '{{.Names}} {{.State}}']), 'tx running');

    // the container's stdin stayed open: a new attach is interactive again
    const att = new Pty(`${shoalCmd()} attach tx`);
    await sleep(500);
    att.write('echo two-$((2+2))\r');
    await att.expect(/two-4\r\n/);
    att.write('\x10');
    await sleep(200);
    att.write('\x11');
    assert.equal(await att.exitCode(), 1, att.out);
    assert.match(att.out, /read escape sequence\r?\n$/, 'like docker attach');
    assert.equal(await status('tx'), 'running');
  });

  it('shoal exec -it --detach-keys ctrl-a,x: a partial sequence is typed, the whole one detaches; the exec goes on', T, async () => {
    const ex = new Pty(`${shoalCmd()} exec -it --detach-keys ctrl-a,x tx sh`);
    await ex.expect(PROMPT);
    // ctrl-a alone is busybox sh's "start of line": "echo " typed after it lands before "pre"
    ex.write('pre-$((3+3))');
    await sleep(100);
    ex.write('\x01');
    await sleep(100);
    ex.write('echo \r');
    await ex.expect(/\r\npre-6\r\n/);
    ex.write('sleep 300\r');
    await sleep(300);
    ex.write('\x01');
    await sleep(200);
    ex.write('x');
    assert.equal(await ex.exitCode(), 1, ex.out);
    assert.match(ex.out, /read escape sequence\r?\n$/);
    const ps = await dockerOk(h(), ['exec', 'tx', 'ps', '-o', 'args']);
    assert.match(ps, /^sleep 300$/m, `the detached exec's process still runs:\n${ps}`);
    assert.equal(await status('tx'), 'running');
    const bad = await h().shoal(['exec', '-it', '--detach-keys', 'ctrl-1', 'tx', 'sh']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid detach keys \(ctrl-1\): Unknown character: 'ctrl-1'/);
  });

  it('the docker CLI: docker attach detaches with ctrl-p ctrl-q, the container keeps running', T, async () => {
    await dockerOk(h(), ['run', '-dit', '--name', 'dk', 'busybox', 'sh']);
    const att = new Pty(`${D} attach dk`, dockerEnv(h()));
    await sleep(500);
    att.write('echo three-$((3*3))\r');
    await att.expect(/three-9\r\n/);
    att.write('\x10');
    await sleep(200);
    att.write('\x11');
    assert.equal(await att.exitCode(), 1, att.out);
    assert.match(att.out, /read escape sequence\r?\n$/);
    assert.equal(await status('dk'), 'running');
    // and once more, with keys of its own
    const again = new Pty(`${D} attach --detach-keys ctrl-a,x dk`, dockerEnv(h()));
    await sleep(500);
    again.write('echo four-$((2*2))\r');
    await again.expect(/four-4\r\n/);
    again.write('\x01');
    await sleep(200);
    again.write('x');
    assert.equal(await again.exitCode(), 1, again.out);
    assert.equal(await status('dk'), 'running');
    // docker exec -it sends its start body on the upgraded connection: none of it reaches the shell
    const ex = new Pty(`${D} exec -it --detach-keys ctrl-a,x dk sh`, dockerEnv(h()));
    await ex.expect(PROMPT);
    ex.write('echo five-$((1+4))\r');
    await ex.expect(/five-5\r\n/);
    ex.write('\x01');
    await sleep(200);
    ex.write('x');
    assert.equal(await ex.exitCode(), 1, ex.out);
    assert.match(ex.out, /read escape sequence\r?\n$/);
    assert.doesNotMatch(ex.out, /not found|Detach/, ex.out);
  });

  it('the daemon detaches a TTY attach on the keys, passing partial sequences through (API client)', T, async () => {
    await dockerOk(h(), ['run', '-dit', '--name', 'echoer', 'busybox', 'cat']);
    const since = (Date.now() / 1000 - 1).toFixed(3);
    const a = session('/v1.41/containers/echoer/attach?stream=1&stdin=1&stdout=1&stderr=1');
    await a.ready;
    // ctrl-p followed by something else reaches the container (cat prints it back raw)
    a.write('a\x10b\r');
    await a.expect(/a\x10b\r\n/);
    a.write('\x10');
    await sleep(100);
    a.write('\x11');
    assert.ok(await settles(a.closed, 5000), `the daemon ends the session on ctrl-p ctrl-q; output: ${JSON.stringify(a.text())}`);
    assert.equal(await status('echoer'), 'running');

    // custom keys; typed before the sequence in the same write still goes through
    const b = session('/v1.41/containers/echoer/attach?stream=1&stdin=1&stdout=1&detachKeys=ctrl-a,x');
    await b.ready;
    b.write('\x10\x11still here\r');
    await b.expect(/still here\r\n/);
    b.write('last\r\x01x');
    assert.ok(await settles(b.closed, 5000), 'the daemon ends the session on ctrl-a x');
    await until('"last" in the log', async () => /last\r\n/.test(await dockerOk(h(), ['logs', 'echoer'])));
    assert.equal(await status('echoer'), 'running');
    const until2 = (Date.now() / 1000 + 1).toFixed(3);
    const ev = await dockerOk(h(), ['events', '--since', since, '--until', until2, '--filter', 'container=echoer', '--filter', 'event=detach', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
    assert.deepEqual(ev.split('\n'), ['detach echoer', 'detach echoer']);

    const bad = await h().api('POST', '/v1.41/containers/echoer/attach?stream=1&stdin=1&detachKeys=ctrl-1');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json, { message: 'Invalid detach keys (ctrl-1) provided' });
  });

  it('the daemon detaches a TTY exec on its DetachKeys; the process goes on (API client)', T, async () => {
    const since = (Date.now() / 1000 - 1).toFixed(3);
    const created = await h().api('POST', '/v1.41/containers/echoer/exec', {
      body: { Cmd: ['sh', '-c', 'echo exec-ready; exec cat'], Tty: true, AttachStdin: true, AttachStdout: true, AttachStderr: true, DetachKeys: 'ctrl-a,x' },
    });
    assert.equal(created.status, 201, created.body.toString());
    const execId = (created.json as { Id: string }).Id;
    const e = session(`/v1.41/exec/${execId}/start`, { Detach: false, Tty: true });
    await e.ready;
    await e.expect(/exec-ready\r\n/);
    e.write('hello exec\r');
    await e.expect(/hello exec\r\n/);
    e.write('\x01');
    await sleep(100);
    e.write('x');
    assert.ok(await settles(e.closed, 5000), `the daemon ends the exec session on ctrl-a x; output: ${JSON.stringify(e.text())}`);
    assert.doesNotMatch(e.text(), /Detach/, 'the start request\'s body is not input');
    const info = await h().api('GET', `/v1.41/exec/${execId}/json`);
    assert.equal((info.json as { Running: boolean }).Running, true, 'the exec still runs');
    const until2 = (Date.now() / 1000 + 1).toFixed(3);
    const ev = await dockerOk(h(), ['events', '--since', since, '--until', until2, '--filter', 'container=echoer', '--filter', 'event=exec_detach', '--format', '{{.Action}} {{.Actor.Attributes.execID}}']);
    assert.equal(ev, `exec_detach ${execId}`);

    const bad = await h().api('POST', '/v1.41/containers/echoer/exec', { body: { Cmd: ['true'], DetachKeys: 'ctrl-1' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json, { message: 'Invalid escape keys (ctrl-1) provided' });
    await dockerOk(h(), ['rm', '-f', 'echoer', 'dk', 'tx']);
  });
});
