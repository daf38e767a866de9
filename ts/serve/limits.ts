// Connection limits of the standalone server: timeouts that cut slow clients (slowloris) and a cap on open
// connections below the process's file-descriptor limit, so that a flood of sockets is refused at accept instead
// of exhausting descriptors (EMFILE makes every request fail, model reloads included).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { argError, show } from '../errors.js';

export interface ConnectionOptions {
  /** Time a client has to send the complete request headers, in ms (slowloris). Default 10,000. */
  headersTimeout?: number;
  /** Time a client has to send the whole request (headers and body), in ms. Default 30,000. */
  requestTimeout?: number;
  /** How long an idle keep-alive connection stays open, in ms. Default 72,000 (above the 60 s of common load balancers). */
  keepAliveTimeout?: number;
  /** A connection with no traffic at all for this long is closed, in ms. Default 60,000. */
  connectionTimeout?: number;
  /**
   * Most connections open at once. Past it a new connection replaces the oldest one with no request in progress
   * (slow or idle), or is closed at accept when all are busy. Default: 90% of the file-descriptor limit, leaving
   * at least 64 descriptors free (see fdLimit()).
   */
  maxConnections?: number;
}

export interface ResolvedConnectionLimits {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionTimeout: number;
  maxConnections: number;
  /** How often Node checks headersTimeout / requestTimeout (their resolution). */
  checkInterval: number;
}

/** Used when the descriptor limit cannot be read (macOS's default soft limit is 256). */
export const FALLBACK_FD_LIMIT = 256;

let cachedFdLimit: number | undefined;

/** The soft limit on open file descriptors (`ulimit -n`): /proc/self/limits on Linux, else `sh -c 'ulimit -n'`, else 256. */
export function fdLimit(): number {
  if (cachedFdLimit !== undefined) return cachedFdLimit;
  let limit: number | undefined;
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m) limit = m[1] === 'unlimited' ? Infinity : Number(m[1]);
  } catch {
    // not Linux
  }
  if (limit === undefined && process.platform !== 'win32') {
    try {
      const r = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 2000 });
      const t = r.stdout?.trim();
      if (t === 'unlimited') limit = Infinity;
      else if (t && /^\d+$/.test(t)) limit = Number(t);
    } catch {
      // no shell
    }
  }
  cachedFdLimit = limit !== undefined && limit > 0 ? limit : FALLBACK_FD_LIMIT;
  return cachedFdLimit;
}

/** The default connection cap for a descriptor limit: 90% of it, leaving at least 64 descriptors for files, logs and reloads. */
export function defaultMaxConnections(fds: number): number {
  if (!Number.isFinite(fds)) return 65_536;
  return Math.max(16, Math.min(Math.floor(fds * 0.9), fds - 64));
}

function ms(v: unknown, name: string, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > 3_600_000)
    throw argError(`${name} must be an integer number of ms in [${min}, 3600000], got ${show(v)}`);
  return v as number;
}

/** Checks the options and fills in the defaults. */
export function connectionLimits(o: ConnectionOptions): ResolvedConnectionLimits {
  const requestGiven = Number.isInteger(o.requestTimeout) && (o.requestTimeout as number) >= 1 ? (o.requestTimeout as number) : Infinity;
  const headersTimeout = ms(o.headersTimeout, 'headersTimeout', Math.min(10_000, requestGiven), 1);
  const requestTimeout = ms(o.requestTimeout, 'requestTimeout', Math.max(30_000, headersTimeout), 1);
  if (headersTimeout > requestTimeout) throw argError(`headersTimeout (${headersTimeout}) must not exceed requestTimeout (${requestTimeout})`);
  const keepAliveTimeout = ms(o.keepAliveTimeout, 'keepAliveTimeout', 72_000, 1);
  const connectionTimeout = ms(o.connectionTimeout, 'connectionTimeout', 60_000, 1);
  let maxConnections: number;
  if (o.maxConnections === undefined) maxConnections = defaultMaxConnections(fdLimit());
  else if (!Number.isInteger(o.maxConnections) || o.maxConnections < 1 || o.maxConnections > 10_000_000)
    throw argError(`maxConnections must be an integer in [1, 10000000], got ${show(o.maxConnections)}`);
  else maxConnections = o.maxConnections;
  // Node checks the two request timeouts on a timer (30 s by default, which would let a 10 s limit run to 40 s).
  const checkInterval = Math.max(25, Math.min(1000, Math.floor(Math.min(headersTimeout, requestTimeout) / 4)));
  return { headersTimeout, requestTimeout, keepAliveTimeout, connectionTimeout, maxConnections, checkInterval };
}

/**
 * Holds a server to `max` open connections. Past it, a new connection replaces the oldest one that has no request
 * in progress (a client still trickling its headers, or an idle keep-alive one); when every connection is busy,
 * the new one is closed at once. Replacing instead of refusing keeps honest clients served while slow clients hold
 * the slots (they would otherwise win every freed slot by reconnecting). Node's own maxConnections, a backstop a
 * little above `max`, refuses a burst before any of this runs.
 */
export function guardConnections(server: import('node:http').Server, max: number): { open(): number } {
  // Insertion order = age; value: requests in progress on the socket.
  const sockets = new Map<import('node:net').Socket, number>();
  server.maxConnections = max + Math.max(8, Math.floor(max / 16));
  server.prependListener('connection', (socket: import('node:net').Socket) => {
    if (sockets.size >= max) {
      let victim: import('node:net').Socket | undefined;
      for (const [s, busy] of sockets) {
        if (busy === 0) {
          victim = s;
          break;
        }
      }
      if (!victim) {
        socket.destroy();
        return;
      }
      sockets.delete(victim);
      victim.destroy();
    }
    sockets.set(socket, 0);
    socket.once('close', () => sockets.delete(socket));
  });
  server.prependListener('request', (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const s = req.socket;
    if (!sockets.has(s)) return;
    sockets.set(s, sockets.get(s)! + 1);
    res.once('close', () => {
      const n = sockets.get(s);
      // Re-inserted at the back: an idle keep-alive connection is as old as its last request.
      if (n !== undefined) {
        sockets.delete(s);
        sockets.set(s, n - 1);
      }
    });
  });
  return { open: () => sockets.size };
}
