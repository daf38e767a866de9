// `recsys serve`: the HTTP server over a model file, with reload on file change or SIGHUP and graceful shutdown.
import { readFileSync } from 'node:fs';
import { RecsysError, argError } from '../errors.js';
import { intOption, parseArgs } from './args.js';
import { splitIds } from './common.js';
import type { ExperimentOptions, ExperimentStatus } from '../serve/experiment.js';

export const serveUsage = [
  'recsys serve --model FILE [options]',
  '  --model FILE         a model saved by recsys train; replaced without downtime when the file changes or on SIGHUP',
  '                       (a bad new file is logged and the old model keeps serving)',
  '  --model-b FILE       a second model, watched and reloaded the same way: users are split between the two by a',
  '                       hash of their id (the same user always in the same arm); answers say which arm gave them',
  '  --split F            fraction of users arm B answers (default 0.5); with --shadow, the fraction B scores (default 1)',
  '  --shadow             arm A answers every request and B scores in its shadow (latency and top-10 overlap in /metrics)',
  '  --experiment-salt S  mixed into the hash: a new salt draws new arms (default none)',
  '  --host H             address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)',
  '  --port P             port (default 8080; 0 picks a free one)',
  '  --token-file FILE    require "Authorization: Bearer <token>" on /v1 routes and /metrics; FILE holds the token',
  '                       (one per line: several are accepted, for rotation). Or set RECSYS_TOKEN.',
  '  --token T            the same with the token on the command line: visible to every local user in ps and',
  '                       /proc, so avoid it (kept for scripts; prefer --token-file or RECSYS_TOKEN)',
  '  --cors ORIGIN,...    allow these browser origins (* for any); CORS is off by default',
  '  --attributes FILE    item attributes (.json or .csv) for request filters, boosts and diversity caps',
  '  --max-k N            largest k a request may ask for (default 1000)',
  '  --max-batch N        most users in one batch request (default 1000)',
  '  --body-limit BYTES   largest request body (default 1048576)',
  '  --headers-timeout MS time a client has to send its request headers (default 10000; cuts slowloris clients)',
  '  --request-timeout MS time a client has to send the whole request (default 30000)',
  '  --keep-alive-timeout MS  idle keep-alive connections close after this (default 72000)',
  '  --connection-timeout MS  a connection with no traffic closes after this (default 60000)',
  '  --max-connections N  most open connections; more are closed at accept (default: 90% of ulimit -n)',
  '  --no-watch           do not watch the file (reload with SIGHUP only)',
  '  --events-dir DIR     keep an event log in DIR: POST /v1/events is answered once the events are on disk, users',
  '                       get recommendations that reflect them at once, and the log is replayed on start',
  '  --durability D       group (default: concurrent events share an fsync) or strict (an fsync per request)',
  '  --refit-every T      fold the logged events into a new model every T (90s, 30m, 1h); also POST /v1/refit',
  '  --new-items M        events naming items the model lacks start, 1 s after the last, a background partialFit',
  '                       (ALS; others: refit), a refit, or nothing: partialFit | refit | ignore (default)',
  '  --archive-max-age-days N  after each refit, delete archived log segments (events a saved refit holds) whose',
  '                       last event is older than N days, oldest first; a new model file then cannot get the',
  '                       whole log replayed and its reload fails (E_PRUNED). Default: keep the archive',
  '  --archive-max-bytes B    the same, keeping at most B bytes of archived segments',
  '  --log-requests       log every request (JSON lines on stdout)',
  '  --quiet              log warnings and errors only',
  'Routes: GET /v1/users/:id/recommendations?k=&exclude=, POST /v1/recommendations, POST /v1/recommendations/batch,',
  '        GET /v1/items/:id/similar?k=, GET /v1/status, GET /healthz, GET /metrics, GET /docs/json (OpenAPI).',
  '        With --events-dir: POST /v1/events, POST /v1/refit. SIGTERM/SIGINT: graceful stop.',
].join('\n');

export async function serveCommand(args: string[]): Promise<void> {
  const { opts, positionals } = parseArgs(args, {
    flags: ['no-watch', 'log-requests', 'quiet', 'shadow'],
    values: [
      'model',
      'model-b',
      'split',
      'experiment-salt',
      'host',
      'port',
      'token',
      'token-file',
      'cors',
      'max-k',
      'max-batch',
      'body-limit',
      'headers-timeout',
      'request-timeout',
      'keep-alive-timeout',
      'connection-timeout',
      'max-connections',
      'events-dir',
      'durability',
      'refit-every',
      'new-items',
      'archive-max-age-days',
      'archive-max-bytes',
      'attributes',
    ],
  });
  if (positionals.length) throw argError(`unexpected argument '${positionals[0]}'`);
  if (typeof opts.model !== 'string') throw argError('--model FILE is required');
  const token = serveToken(opts);
  const experiment = serveExperiment(opts);
  const ms = (name: string) => (opts[name] === undefined ? undefined : intOption(opts[name], name, 0, 1));
  const durability = opts.durability;
  if (durability !== undefined && durability !== 'group' && durability !== 'strict')
    throw argError(`--durability must be group or strict, got '${String(durability)}'`);
  if (durability !== undefined && typeof opts['events-dir'] !== 'string') throw argError('--durability needs --events-dir');
  if (opts['refit-every'] !== undefined && typeof opts['events-dir'] !== 'string') throw argError('--refit-every needs --events-dir');
  const newItems = opts['new-items'];
  if (newItems !== undefined && newItems !== 'partialFit' && newItems !== 'refit' && newItems !== 'ignore')
    throw argError(`--new-items must be partialFit, refit or ignore, got '${String(newItems)}'`);
  if (newItems !== undefined && typeof opts['events-dir'] !== 'string') throw argError('--new-items needs --events-dir');
  const refitEvery = opts['refit-every'] === undefined ? undefined : duration(opts['refit-every'], 'refit-every');
  const archiveRetention = serveRetention(opts);
  const { createServer } = await import('../serve/server.js');
  const server = await createServer({
    model: opts.model,
    watch: opts['no-watch'] !== true,
    token,
    cors: splitIds(opts.cors),
    attributes: typeof opts.attributes === 'string' ? opts.attributes : undefined,
    experiment,
    maxK: intOption(opts['max-k'], 'max-k', 1000, 1),
    maxBatch: intOption(opts['max-batch'], 'max-batch', 1000, 1),
    bodyLimit: intOption(opts['body-limit'], 'body-limit', 1024 * 1024, 1),
    headersTimeout: ms('headers-timeout'),
    requestTimeout: ms('request-timeout'),
    keepAliveTimeout: ms('keep-alive-timeout'),
    connectionTimeout: ms('connection-timeout'),
    maxConnections: ms('max-connections'),
    logger: { level: opts.quiet ? 'warn' : 'info' },
    logRequests: opts['log-requests'] === true,
    events: typeof opts['events-dir'] === 'string' ? { dir: opts['events-dir'], durability, newItems, archiveRetention } : undefined,
  });
  const host = typeof opts.host === 'string' ? opts.host : '127.0.0.1';
  const address = await server.listen({ host, port: intOption(opts.port, 'port', 8080) });
  const onHup = () => void server.recommender.reload();
  process.on('SIGHUP', onHup);
  const refitTimer =
    refitEvery === undefined
      ? undefined
      : setInterval(() => {
          server.recommender.refit().then(
            (r) => {
              if (!r.refitted && !opts.quiet) console.error(`recsys: scheduled refit skipped: ${r.reason}`);
            },
            (err: unknown) => console.error(`recsys: scheduled refit failed: ${(err as Error).message}`),
          );
        }, refitEvery);
  refitTimer?.unref();
  // The signal handlers are in place before the lines that say the server is up (a supervisor, or a test, may
  // send SIGTERM as soon as it reads them).
  const stopped = new Promise<void>((resolve) => {
    let closing = false;
    const stop = (signal: string) => {
      if (closing) {
        console.error(`recsys: ${signal} again, exiting now`);
        process.exit(1);
      }
      closing = true;
      console.error(`recsys: ${signal}: finishing in-flight requests, then exiting`);
      server.close().then(resolve, (err: unknown) => {
        console.error(`recsys: error while closing: ${(err as Error).message}`);
        resolve();
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  const m = server.recommender.served;
  console.error(`recsys: serving ${m.class} ${m.checksum} (${m.users} users, ${m.items} items) at ${address}`);
  const ex = (server.recommender.status() as { experiment?: ExperimentStatus }).experiment;
  if (ex) {
    const mb = ex.arms.B.model;
    const what = ex.mode === 'shadow' ? `in the shadow of arm A for ${ex.split * 100}% of users` : `for ${ex.split * 100}% of users`;
    console.error(`recsys: arm B ${mb.class} ${mb.checksum} (${mb.users} users, ${mb.items} items) ${what}`);
  }
  const l = server.limits;
  console.error(`recsys: at most ${l.maxConnections} connections; headers within ${l.headersTimeout} ms, requests within ${l.requestTimeout} ms`);

  await stopped;
  if (refitTimer) clearInterval(refitTimer);
  process.removeListener('SIGHUP', onHup);
}

// --model-b, --split, --shadow, --experiment-salt: the experiment options, or undefined for one model.
function serveExperiment(opts: Record<string, string | boolean>): ExperimentOptions | undefined {
  if (opts['model-b'] === undefined) {
    for (const f of ['split', 'shadow', 'experiment-salt']) if (opts[f] !== undefined) throw argError(`--${f} needs --model-b FILE`);
    return undefined;
  }
  if (typeof opts['model-b'] !== 'string') throw argError('--model-b needs a model file');
  let split: number | undefined;
  if (opts.split !== undefined) {
    split = typeof opts.split === 'string' && opts.split.trim() !== '' ? Number(opts.split) : NaN;
    if (!(split >= 0 && split <= 1)) throw argError(`--split must be a number in [0, 1], got '${String(opts.split)}'`);
  }
  if (opts['experiment-salt'] !== undefined && typeof opts['experiment-salt'] !== 'string') throw argError('--experiment-salt needs a value');
  return { modelB: opts['model-b'], split, shadow: opts.shadow === true, salt: opts['experiment-salt'] };
}

// "90s", "30m", "1h", "500ms" -> ms (at least 1 s, at most a week).
function duration(v: string | boolean, name: string): number {
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v) : null;
  const ms = m ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'] : NaN;
  if (!(ms >= 1000 && ms <= 7 * 24 * 3_600_000)) throw argError(`--${name} must be a duration such as 90s, 30m or 1h (1 s to 1 week), got '${String(v)}'`);
  return Math.round(ms);
}

// One source of the token: --token-file, --token (visible in ps) or RECSYS_TOKEN, in that order; never two flags.
function serveToken(opts: Record<string, string | boolean>): string[] | undefined {
  if (typeof opts['token-file'] === 'string' && typeof opts.token === 'string') throw argError('give --token-file or --token, not both');
  if (typeof opts['token-file'] === 'string') {
    const file = opts['token-file'];
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new RecsysError('E_IO', `cannot read --token-file ${file}: ${(err as Error).message}`);
    }
    const tokens = text
      .split(/\r?\n/)
      .map((t) => t.trim())
      .filter((t) => t.length > 0);
    if (tokens.length === 0) throw argError(`--token-file ${file} holds no token`);
    return tokens;
  }
  if (typeof opts.token === 'string') {
    console.error('recsys: warning: --token is visible to other local users in ps; prefer --token-file or RECSYS_TOKEN');
    return [opts.token];
  }
  return process.env.RECSYS_TOKEN ? [process.env.RECSYS_TOKEN] : undefined;
}

// --archive-max-age-days / --archive-max-bytes: events.archiveRetention (undefined when neither is given).
function serveRetention(opts: Record<string, string | boolean | undefined>): { maxAgeDays?: number; maxBytes?: number } | undefined {
  const age = opts['archive-max-age-days'];
  const bytes = opts['archive-max-bytes'];
  if (age === undefined && bytes === undefined) return undefined;
  if (typeof opts['events-dir'] !== 'string') throw argError(`--archive-max-${age !== undefined ? 'age-days' : 'bytes'} needs --events-dir`);
  let maxAgeDays: number | undefined;
  if (age !== undefined) {
    maxAgeDays = typeof age === 'string' && age.trim() !== '' ? Number(age) : NaN;
    if (!(maxAgeDays >= 0) || !Number.isFinite(maxAgeDays)) throw argError(`--archive-max-age-days must be a number >= 0, got '${String(age)}'`);
  }
  const maxBytes = bytes === undefined ? undefined : intOption(bytes, 'archive-max-bytes', 0, 0);
  return { ...(maxAgeDays !== undefined && { maxAgeDays }), ...(maxBytes !== undefined && { maxBytes }) };
}
