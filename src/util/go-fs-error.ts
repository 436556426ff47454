// Node's file errors in Go's wording ("open /x: no such file or directory"), for messages that
// docker users know from dockerd and the docker CLI.

// where libuv's text differs from Go's (syscall.Errno strings)
const GO_TEXT: Record<string, string> = { EISDIR: 'is a directory' };

export function goFsError(e: unknown, file: string): string {
  const err = e as NodeJS.ErrnoException;
  if (!err || typeof err.message !== 'string' || !err.code) return String((e as Error)?.message ?? e);
  // "ENOENT: no such file or directory, open '/x'" -> "no such file or directory"
  const what = GO_TEXT[err.code] ?? err.message.replace(/^[A-Z0-9_]+: /, '').replace(/, \w+( '.*')?$/s, '');
  return `${err.syscall ?? 'open'} ${err.path ?? file}: ${what}`;
}
