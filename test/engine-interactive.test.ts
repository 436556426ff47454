// Interactive containers through a real pseudo-terminal: `docker run -it`, `docker exec -it`
// (and the same with the shoal CLI), driven by util-linux `script` as the pty provider; plus
// `run -i` with piped stdin. One lab, one daemon for the whole file.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { useLab, dockerBinary, repoRoot, type Host } from './harness/hosts.js';
import { shq, sleep, type RunResult } from './harness/run.js';
import { dockerEnv } from './harness/checks.js';
import { killPtys, PROMPT, Pty } from './harness/pty.js';

const T = { timeout: 90_000 };

const spawned = new Set<ChildProcess>();

/** the docker CLI with stdin as a pipe that gets `input` and then EOF only after delayMs */
function lateInput(args: string[], input: string, delayMs: number, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const p = spawn(dockerBinary(), args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    spawned.add(p);
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d: Buffer) => { stdout += d.toString('utf8'); });
    p.stderr!.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
    p.stdin!.on('error', () => undefined);
    const feed = setTimeout(() => p.stdin!.end(input), delayMs);
    const kill = setTimeout(() => { stderr += `\n[test] docker killed after ${timeoutMs} ms`; p.kill('SIGKILL'); }, timeoutMs);
    p.on('close', (code, signal) => {
      clearTimeout(feed);
      clearTimeout(kill);
      spawned.delete(p);
      resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : 128), stdout, stderr });
    });
  });
}

after(() => {
  for (const p of spawned) p.kill('SIGKILL');
  killPtys();
});

describe('interactive containers', () => {
  const env = useLab({ hosts: 1, busybox: true });
  const h = (): Host => env.host(1);
  const D = shq(dockerBinary());
  const shoalCmd = (): string => `${shq(path.join(repoRoot(), 'bin', 'shoal'))} -H ${shq(h().dockerHost)}`;

  it('docker run -it and docker exec -it work through a pseudo-terminal', T, async () => {
    const run = new Pty(`${D} run -it --name tty1 busybox sh`, dockerEnv(h()));
    await run.expect(PROMPT);
    run.write('echo $((6*7))\r');
    await run.expect(/\r\n42\r\n/); // a tty turns \n into \r\n
    run.write('stty size\r');
    await run.expect(/\r\n40 120\r\n/); // the size of the client's terminal
    run.write('[ -t 0 ] && [ -t 1 ] && echo "stdin-and-stdout-are-ttys $(tty)"\r');
    await run.expect(/stdin-and-stdout-are-ttys \/dev\/pts\/\d+/);
    run.write('echo from-run > /tmp/shared\r');
    await run.expect(PROMPT);
    assert.equal((await h().docker(['inspect', '-f', '{{.Config.Tty}} {{.Config.OpenStdin}} {{.State.Status}}', 'tty1'])).stdout.trim(), 'true true running');

    // a second interactive shell in the same container while the first one is still open
    const ex = new Pty(`${D} exec -it tty1 sh`, dockerEnv(h()));
    await ex.expect(PROMPT);
    ex.write('cat /tmp/shared; echo $((7*6))x\r');
    await ex.expect(/from-run\r\n42x\r\n/);
    // docker exec sizes its TTY with a resize right after the start (racing the exec's startup)
    ex.write('stty size\r');
    await ex.expect(/\r\n40 120\r\n/);
    // ^C reaches the foreground process through the tty
    ex.write('sleep 100\r');
    await sleep(500);
    ex.write('\x03');
    ex.write('echo interrupted\r');
    await ex.expect(/\r\ninterrupted\r\n/, 5000);
    ex.write('exit 5\r');
    assert.equal(await ex.exitCode(), 5, 'docker exec -it returns the exit code of the shell');

    run.write('exit\r');
    assert.equal(await run.exitCode(), 0, run.out);
    assert.equal((await h().docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'tty1'])).stdout.trim(), 'exited 0');
    // with a TTY the log is the terminal output (no separate stderr)
    const logs = await h().docker(['logs', 'tty1']);
    assert.match(logs.stdout, /42\r\n/);

    // the code of an interactive session's last command is docker's exit code
    const three = new Pty(`${D} run -it --rm busybox sh`, dockerEnv(h()));
    await three.expect(PROMPT);
    three.write('exit 3\r');
    assert.equal(await three.exitCode(), 3, three.out);
  });

  it('docker run -i with piped stdin (no tty) echoes it and exits when stdin closes', T, async () => {
    const big = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${crypto.createHash('md5').update(String(i)).digest('hex')}`).join('\n') + '\n';
    // independent cases, run side by side so that a hang costs its timeout once
    const [r, r2, wc, late] = await Promise.all([
      // stdin complete (and closed) before the container has even started
      h().docker(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'through stdin\nline 2\n', timeoutMs: 15_000 }),
      // a larger input arrives complete and in order
      h().docker(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; echo done >&2'], { input: big, timeoutMs: 15_000 }),
      // a program that reads its stdin to the end and reports
      h().docker(['run', '-i', '--rm', 'busybox', 'wc', '-l'], { input: big, timeoutMs: 15_000 }),
      // input and end of input arriving while the container runs
      lateInput(['run', '-i', '--rm', 'busybox', 'cat'], 'late\n', 1500, dockerEnv(h()), 15_000),
    ]);
    assert.equal(r.code, 0, `small input: ${r.stderr}`);
    assert.equal(r.stdout, 'through stdin\nline 2\n');
    assert.equal(r.stderr, '');
    assert.equal(r2.code, 0, `big input: ${r2.stderr}`);
    assert.equal(r2.stdout.length, big.length);
    assert.ok(r2.stdout === big, 'output equals input');
    assert.equal(r2.stderr, 'done\n');
    assert.equal(wc.code, 0, `wc -l: ${wc.stderr}`);
    assert.equal(wc.stdout.trim(), '20000');
    assert.equal(late.code, 0, `late input: ${late.stderr}`);
    assert.equal(late.stdout, 'late\n');
  });

  it('shoal run -it and shoal exec -it work through a pseudo-terminal (raw mode, sizes, resize)', T, async () => {
    const run = new Pty(`${shoalCmd()} run -it --name tty2 busybox sh`);
    await run.expect(PROMPT);
    // like docker, the client puts its terminal in raw mode: the container's \r\n arrives as is
    // (a terminal left cooked shows \r\r\n, and echoes what is typed a second time)
    run.write('echo $((6*7))\r');
    await run.expect(/echo \$\(\(6\*7\)\)\r\n42\r\n/);
    run.write('stty size\r');
    await run.expect(/\r\n40 120\r\n/);
    // a resized terminal (SIGWINCH) resizes the container's
    run.resize(100, 30);
    await sleep(300);
    run.write('stty size\r');
    await run.expect(/\r\n30 100\r\n/);
    // ^C is a key for the container's terminal (no signal for the local client)
    run.write('sleep 100\r');
    await sleep(300);
    run.write('\x03');
    run.write('echo after-ctrl-c\r');
    await run.expect(/\r\nafter-ctrl-c\r\n/);

    const ex = new Pty(`${shoalCmd()} exec -it tty2 sh`, {}, { cols: 90, rows: 25 });
    await ex.expect(PROMPT);
    ex.write('echo $((7*6))x; stty size\r');
    await ex.expect(/\r\n42x\r\n25 90\r\n/);
    ex.resize(70, 20);
    await sleep(300);
    ex.write('stty size\r');
    await ex.expect(/\r\n20 70\r\n/);
    ex.write('exit 4\r');
    assert.equal(await ex.exitCode(), 4, ex.out);
    run.write('exit\r');
    assert.equal(await run.exitCode(), 0, run.out);
    assert.equal((await h().docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'tty2'])).stdout.trim(), 'exited 0');
    for (const [name, p] of [['run', run], ['exec', ex]] as const) {
      assert.doesNotMatch(p.out, /\r\r\n/, `shoal ${name} -it left the local terminal cooked (\\r\\r\\n)`);
      assert.doesNotMatch(p.out, /echo \$\(\([^\r]*\r\n[^\n]*echo \$\(\(/, `shoal ${name} -it: typed input echoed twice`);
    }
    const piped = await h().shoal(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'via shoal\n', timeoutMs: 15_000 });
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout, 'via shoal\n');
    // the terminal is as it was after the client leaves (raw mode undone)
    const after = new Pty(`sh -c ${shq(`stty -g; ${shoalCmd()} run -it --rm busybox true; stty -g`)}`);
    assert.equal(await after.exitCode(), 0, after.out);
    const states = after.out.split(/\r?\n/).filter((l) => /^[0-9a-f]+(:[0-9a-f]+)+$/.test(l));
    assert.equal(states.length, 2, after.out);
    assert.equal(states[1], states[0], 'stty settings restored');
    // also when the client dies of a hangup (the terminal's window closed)
    const inner = `(sleep 2; kill -HUP $$) & exec ${shoalCmd()} run -it --name hup1 busybox sh`;
    const hup = new Pty(`sh -c ${shq(`stty -g; sh -c ${shq(inner)} >/dev/null; stty -g`)}`);
    assert.equal(await hup.exitCode(), 0, hup.out);
    const hupStates = hup.out.split(/\r?\n/).filter((l) => /^[0-9a-f]+(:[0-9a-f]+)+$/.test(l));
    assert.equal(hupStates.length, 2, hup.out);
    assert.equal(hupStates[1], hupStates[0], 'stty settings restored after SIGHUP');
    assert.equal((await h().shoal(['rm', '-f', 'hup1'])).code, 0);
  });

  it('shoal run -i with piped stdin always delivers the end of input (30 runs, 3 at a time)', T, async () => {
    const one = async (i: number) => {
      const r = await h().shoal(['run', '-i', '--rm', 'busybox', 'cat'], { input: `run ${i}\n`, timeoutMs: 20_000 });
      assert.equal(r.code, 0, `run ${i}: exit ${r.code} ${r.stderr}`);
      assert.equal(r.stdout, `run ${i}\n`);
    };
    for (let i = 0; i < 30; i += 3) await Promise.all([one(i), one(i + 1), one(i + 2)]);
  });
});
