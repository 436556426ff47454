// Shared helpers of the bench/*.mjs scripts.
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

/** Polls `fn` every `stepMs` until it returns something truthy; gives up after `ms` (benches stop by themselves). */
export async function until(what, fn, ms = 60_000, stepMs = 200) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(stepMs);
  }
}

/** The docker CLI against a lab host's daemon; throws unless it exits 0. Returns stdout, trimmed. */
export async function dockerOk(h, args) {
  const r = await h.docker(args, { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}
