// Entry point of the shoal CLI: global options, dispatch to commands, docker's error and exit-code behaviour.
import path from 'node:path';
import { Client, DEFAULT_HOST } from './client.js';
import { checkArgs, commandHelp, flagError, parseArgs, type Ctx, type IO, type OptDef } from './command.js';
import { aliasesOf, findEntry, GROUPS, TOP_LEVEL, type Entry, type Group } from './commands/index.js';
import { errorMessage, exitCodeOf, StatusError, UsageError } from './errors.js';
import { certDir, DEFAULT_TLS_HOST, loadClientTls, tlsFiles, type ClientTls } from './tls.js';

export const BIN = 'shoal';

const GLOBAL_OPTS: OptDef[] = [
  { long: 'config', kind: 'string', desc: 'Location of client config files', defText: '"~/.shoal"' },
  { long: 'context', short: 'c', kind: 'string', desc: 'Name of the context to use to connect to the daemon' },
  { long: 'debug', short: 'D', kind: 'bool', desc: 'Enable debug mode' },
  { long: 'host', short: 'H', kind: 'list', desc: 'Daemon socket to connect to' },
  { long: 'log-level', short: 'l', kind: 'string', desc: 'Set the logging level ("debug", "info", "warn", "error", "fatal")', def: 'info' },
  { long: 'tls', kind: 'bool', desc: 'Use TLS; implied by --tlsverify' },
  { long: 'tlscacert', kind: 'string', desc: 'Trust certs signed only by this CA', defText: JSON.stringify(path.join(certDir(process.env), 'ca.pem')) },
  { long: 'tlscert', kind: 'string', desc: 'Path to TLS certificate file', defText: JSON.stringify(path.join(certDir(process.env), 'cert.pem')) },
  { long: 'tlskey', kind: 'string', desc: 'Path to TLS key file', defText: JSON.stringify(path.join(certDir(process.env), 'key.pem')) },
  { long: 'tlsverify', kind: 'bool', desc: 'Use TLS and verify the remote' },
  { long: 'version', short: 'v', kind: 'bool', desc: 'Print version information and quit' },
];

function pad(s: string, w: number): string { return s.padEnd(w); }

async function rootHelp(): Promise<string> {
  const opts = GLOBAL_OPTS.filter((o) => !o.hidden);
  const optRows = opts.map((o) => {
    const type = o.kind === 'bool' ? '' : ` ${o.kind === 'list' ? 'list' : 'string'}`;
    return [`${o.short ? `-${o.short}, ` : '    '}--${o.long}${type}`, o.desc + (o.defText ? ` (default ${o.defText})` : o.def && o.kind !== 'bool' ? ` (default "${o.def}")` : '')];
  });
  const w = Math.max(...optRows.map((r) => r[0].length));
  let s = `\nUsage:  ${BIN} [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers\n\nOptions:\n`;
  s += optRows.map(([l, d]) => `  ${pad(l, w)}   ${d}`).join('\n') + '\n';
  s += '\nManagement Commands:\n';
  const cw = 12;
  for (const g of GROUPS) s += `  ${pad(g.name, cw)}${g.short}\n`;
  s += '\nCommands:\n';
  const defs = await Promise.all(TOP_LEVEL.map((x) => x.load()));
  TOP_LEVEL.forEach((x, i) => { s += `  ${pad(x.name, cw)}${defs[i].short.replace(/Docker/g, 'Shoal')}\n`; });
  s += `\nRun '${BIN} COMMAND --help' for more information on a command.\n`;
  return s;
}

async function groupHelp(g: Group): Promise<string> {
  let s = `\nUsage:  ${BIN} ${g.name} COMMAND\n\n${g.short}\n\nCommands:\n`;
  const defs = await Promise.all(g.entries.map((x) => x.load()));
  g.entries.forEach((x, i) => { s += `  ${pad(x.name, 12)}${defs[i].short}\n`; });
  s += `\nRun '${BIN} ${g.name} COMMAND --help' for more information on a command.\n`;
  return s;
}

let pipeHandlerInstalled = false;

function defaultIO(): IO {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

function flush(w: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    try { w.write('', () => resolve()); } catch { resolve(); }
  });
}

/** Strips "node script.js" when given the whole process.argv. */
function userArgs(argv: string[]): string[] {
  if (argv.length >= 2 && (argv[0] === process.execPath || /(^|\/)(node|nodejs)(\.exe)?$/.test(argv[0]))) return argv.slice(2);
  return argv;
}

/**
 * Runs the CLI with the given arguments and returns the exit code.
 * `io` replaces the process streams/environment (tests).
 */
export async function main(argvIn: string[], io: Partial<IO> = {}): Promise<number> {
  const streams: IO = { ...defaultIO(), ...io };
  // A closed pipe on stdout/stderr ends the CLI like Go's SIGPIPE does (exit 141), without a stack trace.
  if (!pipeHandlerInstalled && (streams.stdout === process.stdout || streams.stderr === process.stderr)) {
    pipeHandlerInstalled = true;
    const onPipeError = (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(141); };
    process.stdout.on('error', onPipeError);
    process.stderr.on('error', onPipeError);
  }
  const argv = userArgs(argvIn);
  const out = (s: string) => { streams.stdout.write(s); };
  const err = (s: string) => { streams.stderr.write(s); };
  try {
    return await run(argv, streams, out, err);
  } finally {
    await Promise.all([flush(streams.stdout), flush(streams.stderr)]);
  }
}

async function run(argv: string[], io: IO, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let global;
  try {
    global = parseArgs({ name: BIN, options: GLOBAL_OPTS, interspersed: false }, argv);
  } catch (e) {
    if (e instanceof UsageError) { err(`${e.message}\nSee '${BIN} --help'.\n`); return 125; }
    throw e;
  }
  const g = global.opts;
  if (g.version) {
    const { cliVersion } = await import('./commands/system-version.js');
    out(`Shoal version ${cliVersion()}, build unknown\n`);
    return 0;
  }
  const args = global.args;
  if (global.help || args.length === 0) { out(await rootHelp()); return 0; }
  const hosts: string[] = g.host;
  if (hosts.length > 1) { err('Please specify only one -H\n'); return 1; }
  const tlsWanted = tlsFiles({ ...g, changed: g._changed }, io.env);
  const host = hosts[0] || io.env.SHOAL_HOST || io.env.DOCKER_HOST || (tlsWanted ? DEFAULT_TLS_HOST : DEFAULT_HOST);
  const debug = !!g.debug || g.logLevel === 'debug';

  // resolve the command
  let name = args[0];
  let rest = args.slice(1);
  let entry: Entry | undefined;
  let parentPath = BIN;
  if (name === 'help') {
    if (rest.length === 0) { out(await rootHelp()); return 0; }
    name = rest[0];
    rest = [...rest.slice(1), '--help'];
  }
  const group = GROUPS.find((x) => x.name === name);
  if (group) {
    parentPath = `${BIN} ${group.name}`;
    const sub = rest[0];
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') { out(await groupHelp(group)); return 0; }
    if (sub.startsWith('-')) {
      err(`unknown flag: ${sub}\nSee '${parentPath} --help'.\n`);
      return 125;
    }
    entry = findEntry(group.entries, sub);
    if (!entry) {
      err(`${BIN}: '${group.name} ${sub}' is not a ${BIN} command.\nSee '${BIN} --help'\n`);
      return 1;
    }
    rest = rest.slice(1);
  } else {
    entry = findEntry(TOP_LEVEL, name);
    if (!entry) {
      err(`${BIN}: '${name}' is not a ${BIN} command.\nSee '${BIN} --help'\n`);
      return 1;
    }
  }
  const def = await entry.load();
  const cmdPath = `${parentPath} ${entry.name}`;

  let parsed;
  try {
    parsed = parseArgs(def, rest);
  } catch (e) {
    if (e instanceof UsageError) { err(`${flagError(e, cmdPath).message}\n`); return 125; }
    throw e;
  }
  if (parsed.help) { out(commandHelp(def, cmdPath, aliasesOf(BIN, entry.key)).replace(/Docker/g, 'Shoal')); return 0; }
  try {
    checkArgs(def, cmdPath, parsed.args);
  } catch (e) {
    if (e instanceof UsageError) { err(`${e.message}\n`); return e.code; }
    throw e;
  }

  // Read before any command runs, as the docker CLI does when it initializes.
  let tls: ClientTls | undefined;
  try {
    if (tlsWanted) tls = loadClientTls(tlsWanted);
  } catch (e) {
    err(`Failed to initialize: ${errorMessage(e)}\n`);
    return 1;
  }

  let client: Client | undefined;
  const ctx: Ctx = {
    cmdPath, bin: BIN, host, debug, io, out, err,
    client() {
      if (!client) {
        try {
          // SHOAL_CLI_TRACE=1 logs every API request (docker's -D itself prints no request log)
          client = new Client(host, { tls, debug: io.env.SHOAL_CLI_TRACE ? (m) => err(`DEBU[0000] ${m}\n`) : undefined });
        } catch (e) {
          throw new StatusError(errorMessage(e), 1);
        }
      }
      return client;
    },
  };
  try {
    const code = await def.run(ctx, parsed.args, parsed.opts);
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    const msg = errorMessage(e);
    if (msg !== '') err(`${msg}\n`);
    if (debug && e instanceof Error && !(e instanceof StatusError) && e.stack) err(`${e.stack}\n`);
    return exitCodeOf(e);
  }
}


