// `recsys serve`: the HTTP server over a model file, with reload on file change or SIGHUP and graceful shutdown.
import { argError } from '../errors.js';
import { intOption, parseArgs } from './args.js';
import { splitIds } from './common.js';

export const serveUsage = [
  'recsys serve --model FILE [options]',
  '  --model FILE         a model saved by recsys train; replaced without downtime when the file changes or on SIGHUP',
  '                       (a bad new file is logged and the old model keeps serving)',
  '  --host H             address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)',
  '  --port P             port (default 8080; 0 picks a free one)',
  '  --token T            require "Authorization: Bearer T" on /v1 routes and /metrics (or set RECSYS_TOKEN)',
  '  --cors ORIGIN,...    allow these browser origins (* for any); CORS is off by default',
  '  --max-k N            largest k a request may ask for (default 1000)',
  '  --max-batch N        most users in one batch request (default 1000)',
  '  --body-limit BYTES   largest request body (default 1048576)',
  '  --no-watch           do not watch the file (reload with SIGHUP only)',
  '  --log-requests       log every request (JSON lines on stdout)',
  '  --quiet              log warnings and errors only',
  'Routes: GET /v1/users/:id/recommendations?k=&exclude=, POST /v1/recommendations, POST /v1/recommendations/batch,',
  '        GET /v1/items/:id/similar?k=, GET /healthz, GET /metrics, GET /docs/json (OpenAPI). SIGTERM/SIGINT: graceful stop.',
].join('\n');

export async function serveCommand(args: string[]): Promise<void> {
  const { opts, positionals } = parseArgs(args, {
    flags: ['no-watch', 'log-requests', 'quiet'],
    values: ['model', 'host', 'port', 'token', 'cors', 'max-k', 'max-batch', 'body-limit'],
  });
  if (positionals.length) throw argError(`unexpected argument '${positionals[0]}'`);
  if (typeof opts.model !== 'string') throw argError('--model FILE is required');
  const token = typeof opts.token === 'string' ? opts.token : process.env.RECSYS_TOKEN || undefined;
  const { createServer } = await import('../serve/server.js');
  const server = await createServer({
    model: opts.model,
    watch: opts['no-watch'] !== true,
    token,
    cors: splitIds(opts.cors),
    maxK: intOption(opts['max-k'], 'max-k', 1000, 1),
    maxBatch: intOption(opts['max-batch'], 'max-batch', 1000, 1),
    bodyLimit: intOption(opts['body-limit'], 'body-limit', 1024 * 1024, 1),
    logger: { level: opts.quiet ? 'warn' : 'info' },
    logRequests: opts['log-requests'] === true,
  });
  const host = typeof opts.host === 'string' ? opts.host : '127.0.0.1';
  const address = await server.listen({ host, port: intOption(opts.port, 'port', 8080) });
  const m = server.recommender.served;
  console.error(`recsys: serving ${m.class} ${m.checksum} (${m.users} users, ${m.items} items) at ${address}`);

  const onHup = () => void server.recommender.reload();
  process.on('SIGHUP', onHup);
  await new Promise<void>((resolve) => {
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
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  process.removeListener('SIGHUP', onHup);
}
