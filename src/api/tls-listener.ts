// The TCP listener of the API over TLS. A client speaking plain HTTP to it gets what Go's server
// answers (400 "Client sent an HTTP request to an HTTPS server."), so the docker CLI shows a
// readable error instead of a reset; everything else goes on to the HTTPS server's handshake.
import net from 'node:net';
import type tls from 'node:tls';

// Go's crypto/tls looksLikeHTTP: the first five bytes of common requests
const HTTP_STARTS = ['GET /', 'HEAD ', 'POST ', 'PUT /', 'OPTIO'];
const PLAIN_HTTP_REFUSAL = 'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n';
// a connection that never says anything is dropped
const FIRST_BYTES_TIMEOUT_MS = 60_000;

export interface TlsListener {
  server: net.Server;
  /** stop accepting and drop connections not yet handed to the HTTPS server */
  close(): Promise<void>;
}

export function tlsListener(secure: tls.Server): TlsListener {
  const waiting = new Set<net.Socket>();
  // allowHalfOpen: the TLS socket inherits it, so a client's half-close of a hijacked stream (stdin
  // done) leaves the way back open for the container's output.
  const server = net.createServer({ allowHalfOpen: true }, (sock) => {
    waiting.add(sock);
    sock.setTimeout(FIRST_BYTES_TIMEOUT_MS, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    sock.on('close', () => waiting.delete(sock));
    sock.on('end', () => { if (waiting.has(sock)) sock.destroy(); });
    sock.once('data', (first: Buffer) => {
      waiting.delete(sock);
      sock.setTimeout(0);
      if (HTTP_STARTS.includes(first.subarray(0, 5).toString('latin1'))) {
        sock.end(PLAIN_HTTP_REFUSAL);
        return;
      }
      // Node's TLS socket first feeds itself what is buffered in the raw socket.
      sock.pause();
      sock.unshift(first);
      secure.emit('connection', sock);
    });
  });
  return {
    server,
    close: () => new Promise<void>((resolve) => {
      for (const s of waiting) s.destroy();
      server.close(() => resolve());
    }),
  };
}
