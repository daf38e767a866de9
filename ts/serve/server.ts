// A standalone server: Fastify with the recsys plugin, JSON 404s, graceful close. `recsys serve` runs it; it is
// exported for programs that want the whole server rather than the plugin. Fastify is loaded on first use.
import type { FastifyInstance } from 'fastify';
import { createRecommender, type RecommenderService } from './recommender.js';
import { errorHandler, recsysPlugin, type RecsysPluginOptions } from './plugin.js';

export interface ServerOptions extends RecsysPluginOptions {
  /** Fastify's logger option (pino): true, false or pino options. Default { level: 'info' }. */
  logger?: boolean | Record<string, unknown>;
  /** Log every request (costs throughput). Default false. */
  logRequests?: boolean;
}

export interface RecsysServer {
  app: FastifyInstance;
  recommender: RecommenderService;
  /** Listens on host:port (defaults 127.0.0.1:8080; port 0 picks a free one) and returns the address. */
  listen(options?: { host?: string; port?: number }): Promise<string>;
  /** Stops accepting connections, lets in-flight requests finish, then closes. */
  close(): Promise<void>;
}

export async function createServer(options: ServerOptions): Promise<RecsysServer> {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({
    logger: options.logger ?? { level: 'info' },
    logController: new Fastify.LogController({ disableRequestLogging: !options.logRequests }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
    // Ids may be up to 512 characters (the schemas' limit; Fastify's default is 100).
    routerOptions: { maxParamLength: 512 },
    // Errors before routing (a path parameter over the limit, a malformed URL) get the same JSON error body.
    frameworkErrors: (err, req, reply) => errorHandler(err, req, reply),
  });
  const recommender =
    options.recommender ??
    createRecommender({
      ...options,
      model: options.model!,
      logger: { info: (m) => app.log.info(m), warn: (m) => app.log.warn(m), error: (m) => app.log.error(m) },
    });
  if (!options.recommender) app.addHook('onClose', async () => recommender.close());
  app.setErrorHandler(errorHandler);
  // Graceful close: requests that arrived before close() finish and their responses are fully written (Node's
  // server.close() drops connections it thinks idle, which includes one whose response is still being flushed).
  let inFlight = 0;
  let closing = false;
  app.addHook('onRequest', (_req, reply, done) => {
    inFlight++;
    if (closing) reply.header('connection', 'close');
    done();
  });
  app.addHook('onResponse', (_req, _reply, done) => {
    inFlight--;
    done();
  });
  await app.register(recsysPlugin, { ...options, recommender });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: { code: 'E_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });
  return {
    app,
    recommender,
    async listen(o = {}) {
      return app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 8080 });
    },
    async close() {
      closing = true;
      const deadline = Date.now() + 30_000;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      await app.close();
    },
  };
}
