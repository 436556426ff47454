import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseLogLine, parseTimestamp, readLogs, type LogRecord, type ReadLogsOptions } from './log-file.js';

const BASE = 1795521154n * 1_000_000_000n; // 2026-11-24T11:52:34Z
const ts = (i: number) => `2026-11-24T11:52:34.${String(i).padStart(9, '0')}+00:00`;
const line = (i: number, text: string, stream = 'stdout', tag = 'F') => `${ts(i)} ${stream} ${tag} ${text}\n`;
const text = (rs: LogRecord[]) => rs.map((r) => r.data.toString()).join('');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function collect(p: string, opts: ReadLogsOptions = {}): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const r of readLogs(p, opts)) out.push(r);
  return out;
}

let dir: string;
let n = 0;
const tmp = () => path.join(dir, `log-${n++}`);
before(async () => { dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'shoal-logfile-')); });
after(async () => { await fsp.rm(dir, { recursive: true, force: true }); });

describe('parseLogLine', () => {
  it('parses full and partial records', () => {
    const f = parseLogLine('2026-11-24T11:52:34.685467485+00:00 stdout F hello')!;
    assert.equal(f.time, '2026-11-24T11:52:34.685467485+00:00');
    assert.equal(f.timeNano, BASE + 685467485n);
    assert.equal(f.stream, 'stdout');
    assert.equal(f.data.toString(), 'hello\n');
    assert.equal(f.partial, false);
    const p = parseLogLine('2026-11-24T11:52:34.5Z stderr P $ ')!;
    assert.equal(p.stream, 'stderr');
    assert.equal(p.data.toString(), '$ ');
    assert.equal(p.partial, true);
    assert.equal(p.timeNano, BASE + 500_000_000n);
  });

  it('keeps spaces in content and handles empty lines', () => {
    assert.equal(parseLogLine(`${ts(1)} stdout F  a  b `)!.data.toString(), ' a  b \n');
    assert.equal(parseLogLine(`${ts(1)} stdout F `)!.data.toString(), '\n');
    assert.equal(parseLogLine(`${ts(1)} stdout F`)!.data.toString(), '\n');
  });

  it('converts zone offsets', () => {
    assert.equal(parseTimestamp('2026-11-24T12:52:34+01:00'), BASE);
    assert.equal(parseTimestamp('2026-11-24T06:22:34.000000001-05:30'), BASE + 1n);
  });

  it('rejects malformed lines', () => {
    for (const l of ['', 'garbage', `${ts(1)} stdin F x`, `${ts(1)} stdout X x`, `${ts(1)} stdout Fx`, 'yesterday stdout F x', `${ts(1)}`]) {
      assert.equal(parseLogLine(l), undefined, l);
    }
  });
});

describe('readLogs', () => {
  it('reads all records in order, skipping bad lines and an unfinished last record', async () => {
    const p = tmp();
    await fsp.writeFile(p, line(1, 'a') + 'junk\n' + line(2, 'b', 'stderr') + line(3, '$ ', 'stdout', 'P') + line(4, 'c') + `${ts(5)} stdout F unfini`);
    const rs = await collect(p);
    assert.deepEqual(rs.map((r) => r.stream), ['stdout', 'stderr', 'stdout', 'stdout']);
    assert.equal(text(rs), 'a\nb\n$ c\n');
  });

  it('yields nothing for a missing file', async () => {
    assert.deepEqual(await collect(path.join(dir, 'nope')), []);
  });

  it('preserves non-UTF-8 bytes', async () => {
    const p = tmp();
    await fsp.writeFile(p, Buffer.concat([Buffer.from(`${ts(1)} stdout F `), Buffer.from([0xff, 0xfe, 0x00]), Buffer.from('\n')]));
    const [r] = await collect(p);
    assert.deepEqual([...r.data], [0xff, 0xfe, 0x00, 0x0a]);
  });

  it('filters by since and until (inclusive)', async () => {
    const p = tmp();
    await fsp.writeFile(p, [1, 2, 3, 4, 5].map((i) => line(i, `l${i}`)).join(''));
    assert.equal(text(await collect(p, { since: BASE + 2n, until: BASE + 4n })), 'l2\nl3\nl4\n');
    assert.equal(text(await collect(p, { tail: 2, since: BASE + 5n })), 'l5\n');
  });

  it('tail counts lines: partial records belong to the next full one of their stream', async () => {
    const p = tmp();
    await fsp.writeFile(p, line(1, 'one') + line(2, 'tw', 'stdout', 'P') + line(3, 'err', 'stderr') + line(4, 'o') + line(5, '$ ', 'stdout', 'P'));
    assert.equal(text(await collect(p, { tail: 1 })), '$ ');
    assert.equal(text(await collect(p, { tail: 2 })), 'o\n$ ');
    assert.equal(text(await collect(p, { tail: 3 })), 'twerr\no\n$ ');
    assert.equal(text(await collect(p, { tail: 4 })), 'one\ntwerr\no\n$ ');
    assert.equal(text(await collect(p, { tail: 100 })), 'one\ntwerr\no\n$ ');
    assert.equal(text(await collect(p, { tail: -1 })), 'one\ntwerr\no\n$ ');
    assert.deepEqual(await collect(p, { tail: 0 }), []);
  });

  it('tail reads large files backwards across chunk boundaries', async () => {
    const p = tmp();
    const N = 20000;
    const body: string[] = [];
    for (let i = 0; i < N; i++) body.push(line(i, `line ${i} ${'x'.repeat(i % 97)}`));
    await fsp.writeFile(p, body.join(''));
    for (const t of [1, 7, 3000, N - 1, N, N + 5]) {
      const rs = await collect(p, { tail: t });
      assert.equal(rs.length, Math.min(t, N), `tail ${t}`);
      assert.equal(rs[0].timeNano, BASE + BigInt(N - Math.min(t, N)));
      assert.equal(rs.at(-1)!.data.toString(), `line ${N - 1} ${'x'.repeat((N - 1) % 97)}\n`);
    }
    assert.equal((await collect(p)).length, N);
  });

  it('follow: yields appended records, never half a record, and stops via stopOn after draining', async () => {
    const p = tmp();
    await fsp.writeFile(p, line(1, 'old'));
    let done!: () => void;
    const exited = new Promise<void>((r) => { done = r; });
    const got: string[] = [];
    const reader = (async () => {
      for await (const r of readLogs(p, { follow: true, stopOn: exited })) got.push(r.data.toString());
    })();
    await sleep(50);
    assert.deepEqual(got, ['old\n']);
    const half = line(2, 'new');
    await fsp.appendFile(p, half.slice(0, 20));
    await sleep(250);
    assert.deepEqual(got, ['old\n']);
    await fsp.appendFile(p, half.slice(20) + line(3, 'prompt$ ', 'stdout', 'P'));
    await sleep(250);
    assert.deepEqual(got, ['old\n', 'new\n', 'prompt$ ']);
    // Written just before the container is seen to exit: still delivered.
    await fsp.appendFile(p, line(4, 'last', 'stderr'));
    done();
    await reader;
    assert.deepEqual(got, ['old\n', 'new\n', 'prompt$ ', 'last\n']);
  });

  it('follow waits for the file to appear; fromEnd only yields new data', async () => {
    const p = tmp();
    const ac = new AbortController();
    const got: string[] = [];
    const reader = (async () => {
      for await (const r of readLogs(p, { follow: true, fromEnd: true, signal: ac.signal })) got.push(r.data.toString());
    })();
    await sleep(150);
    await fsp.writeFile(p, line(1, 'first'));
    await sleep(250);
    assert.deepEqual(got, ['first\n']);

    const got2: string[] = [];
    const reader2 = (async () => {
      for await (const r of readLogs(p, { follow: true, fromEnd: true, signal: ac.signal })) got2.push(r.data.toString());
    })();
    await sleep(100);
    await fsp.appendFile(p, line(2, 'second'));
    await sleep(250);
    ac.abort();
    await Promise.all([reader, reader2]);
    assert.deepEqual(got, ['first\n', 'second\n']);
    assert.deepEqual(got2, ['second\n']);
  });

  it('follow with tail, abort ends the iteration promptly', async () => {
    const p = tmp();
    await fsp.writeFile(p, line(1, 'a') + line(2, 'b') + line(3, 'c'));
    const ac = new AbortController();
    const got: string[] = [];
    const reader = (async () => {
      for await (const r of readLogs(p, { follow: true, tail: 1, signal: ac.signal })) got.push(r.data.toString());
    })();
    await sleep(50);
    await fsp.appendFile(p, line(4, 'd'));
    await sleep(200);
    const t0 = Date.now();
    ac.abort();
    await reader;
    assert.ok(Date.now() - t0 < 150);
    assert.deepEqual(got, ['c\n', 'd\n']);
  });

  it('follow restarts from the beginning when the file is replaced or truncated', async () => {
    const p = tmp();
    await fsp.writeFile(p, line(1, 'aaaaaaaaaaaaaaaa') + line(2, 'bbbbbbbbbbbbbbbbb'));
    const ac = new AbortController();
    const got: string[] = [];
    const reader = (async () => {
      for await (const r of readLogs(p, { follow: true, signal: ac.signal })) got.push(r.data.toString());
    })();
    await sleep(50);
    await fsp.writeFile(p, line(3, 'c'));
    await sleep(250);
    await fsp.writeFile(p + '.new', line(4, 'd'));
    await fsp.rename(p + '.new', p);
    await sleep(250);
    ac.abort();
    await reader;
    assert.deepEqual(got, ['aaaaaaaaaaaaaaaa\n', 'bbbbbbbbbbbbbbbbb\n', 'c\n', 'd\n']);
  });
});

describe('readLogs: a container that exits before its log file is seen', () => {
  it('still yields the file written after the reader started, once stopOn has already settled', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'logs-late-'));
    try {
      const file = path.join(dir, 'late.log');
      let exit!: () => void;
      const exited = new Promise<void>((r) => { exit = r; });
      const got: string[] = [];
      const reading = (async () => {
        for await (const r of readLogs(file, { follow: true, fromEnd: true, stopOn: exited })) got.push(r.data.toString());
      })();
      await new Promise((r) => setTimeout(r, 20));
      await fsp.writeFile(file, '2026-11-24T11:52:34.685467485+00:00 stdout F hi\n');
      exit();
      await reading;
      assert.deepEqual(got, ['hi\n']);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
