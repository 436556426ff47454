// Programs on a pseudo-terminal: util-linux `script -qfec CMD /dev/null` provides the pty, the test
// drives it through pipes (keystrokes in, terminal output out).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { sleep } from './run.js';

const live = new Set<ChildProcess>();

/** busybox ash's prompt (followed by a cursor position query, ESC[6n) */
export const PROMPT = /\/ # /;

/** A command running on the slave side of a pty. */
export class Pty {
  private readonly p: ChildProcess;
  /** everything the terminal showed so far */
  out = '';
  private mark = 0;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** cmd is a shell command line; the terminal starts as cols x rows (a pty behind pipes starts as 0x0) */
  constructor(readonly cmd: string, env: NodeJS.ProcessEnv = {}, size = { cols: 120, rows: 40 }) {
    // the pty's name first (for resize), then the size, then the command replaces the shell
    const script = `printf 'pty=%s\\n' "$(tty)"; stty cols ${size.cols} rows ${size.rows}; exec ${cmd}`;
    this.p = spawn('script', ['-qfec', script, '/dev/null'], { env: { ...process.env, TERM: 'xterm', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(this.p);
    this.p.stdout!.on('data', (d: Buffer) => { this.out += d.toString('utf8'); });
    this.p.stderr!.on('data', (d: Buffer) => { this.out += d.toString('utf8'); });
    this.p.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => this.p.on('close', (code, signal) => { live.delete(this.p); resolve({ code, signal }); }));
  }

  /** waits until the output written since the last expect() matches re */
  async expect(re: RegExp, ms = 15_000): Promise<RegExpMatchArray> {
    const end = Date.now() + ms;
    for (;;) {
      const m = this.out.slice(this.mark).match(re);
      if (m) {
        this.mark += (m.index ?? 0) + m[0].length;
        return m;
      }
      if (Date.now() > end) throw new Error(`${this.cmd}: no ${re} within ${ms} ms; output so far:\n${JSON.stringify(this.out)}`);
      await sleep(50);
    }
  }

  /** types s (use \r for Enter, as a terminal sends it) */
  write(s: string): void {
    this.p.stdin!.write(s);
  }

  /** changes the terminal's size, as a terminal window does (the foreground program gets SIGWINCH) */
  resize(cols: number, rows: number): void {
    const m = /pty=(\/dev\/pts\/\d+)/.exec(this.out);
    if (!m) throw new Error(`${this.cmd}: the pty's name is not known yet`);
    const r = spawnSync('stty', ['-F', m[1]!, 'cols', String(cols), 'rows', String(rows)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`stty -F ${m[1]}: ${r.stderr}`);
  }

  /** exit code of the command (script -e passes it on); kills it after ms */
  async exitCode(ms = 15_000): Promise<number> {
    const t = setTimeout(() => this.p.kill('SIGKILL'), ms);
    const r = await this.exited;
    clearTimeout(t);
    if (r.code === null) throw new Error(`${this.cmd}: did not end within ${ms} ms (${r.signal}); output:\n${JSON.stringify(this.out)}`);
    return r.code;
  }

  kill(): void {
    this.p.kill('SIGKILL');
  }
}

/** Kills every pty program still running (for an after() hook). */
export function killPtys(): void {
  for (const p of live) p.kill('SIGKILL');
}
