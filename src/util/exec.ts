import { spawn } from 'node:child_process';

export interface RunResult { code: number; stdout: string; stderr: string }

/** Runs a helper program (runc, mount, ip, nft...) and collects its output; never throws on non-zero exit. */
export function run(cmd: string, args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs);
    p.stdout.on('data', (c: Buffer) => out.push(c));
    p.stderr.on('data', (c: Buffer) => err.push(c));
    p.on('error', (e) => { if (timer) clearTimeout(timer); reject(e); });
    p.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    p.stdin.on('error', () => { /* the program may exit before reading its input */ });
    p.stdin.end(opts.input);
  });
}

/** Like run() but throws an Error carrying the program's stderr when it fails. */
export async function runOk(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
  return r.stdout;
}
