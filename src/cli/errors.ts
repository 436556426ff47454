// Error types of the CLI and their mapping to docker's messages and exit codes.

/** An error that carries its own exit code; an empty message prints nothing (docker's cli.StatusError). */
export class StatusError extends Error {
  constructor(message: string, readonly code: number) {
    super(message);
  }
}

/** An error answered by the daemon (HTTP status >= 400); printed as "Error response from daemon: <message>". */
export class DaemonError extends Error {
  constructor(readonly statusCode: number, readonly daemonMessage: string) {
    super(`Error response from daemon: ${daemonMessage}`);
  }
  get notFound(): boolean { return this.statusCode === 404; }
}

/** The daemon cannot be reached. */
export class ConnectError extends Error {
  constructor(message: string, readonly errno?: string) {
    super(message);
  }
}

/** A command-line usage error (unknown flag, wrong number of arguments...). */
export class UsageError extends Error {
  constructor(message: string, readonly code = 125) {
    super(message);
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof DaemonError && err.statusCode === 404;
}

/** The message docker would print for an error. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Exit code docker would use for an error returned by a command (1 unless the error says otherwise). */
export function exitCodeOf(err: unknown): number {
  if (err instanceof StatusError) return err.code === 0 ? 1 : err.code;
  if (err instanceof UsageError) return err.code;
  return 1;
}

/**
 * docker run's exit status for its own failures (runStartContainerErr): 127 when the command cannot be
 * found, 126 when it cannot be invoked, 125 for any other failure; printed like docker's reportError.
 */
export function runStatusError(err: unknown, cmdPath: string, withHelp = true): StatusError {
  const msg = errorMessage(err);
  const text = reportText(msg, cmdPath, withHelp);
  if (msg.includes('executable file not found') || msg.includes('no such file or directory') || msg.includes('system cannot find the file specified')) {
    return new StatusError(text, 127);
  }
  if (msg.includes('permission denied') || msg.includes('is a directory')) {
    return new StatusError(text, 126);
  }
  return new StatusError(text, 125);
}

/** docker 20.10's reportError: "docker: <message ending with a period>" and, optionally, a pointer to --help. */
export function reportText(msg: string, cmdPath: string, withHelp = true): string {
  let text = `${binName(cmdPath)}: ${msg.replace(/\.$/, '')}.`;
  if (withHelp) text += `\nSee '${cmdPath} --help'.`;
  return text;
}

function binName(cmdPath: string): string {
  return cmdPath.split(' ')[0] || 'shoal';
}

/** Joins several errors like Go's errors.Join (one message per line). */
export function joinErrors(errs: unknown[]): Error | undefined {
  if (errs.length === 0) return undefined;
  return new StatusError(errs.map(errorMessage).join('\n'), 1);
}
