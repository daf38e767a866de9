// A standalone server: Fastify with the recsys plugin, JSON 404s, graceful close. `recsys serve` runs it; it is
// exported for programs that want the whole server rather than the plugin. Fastify is loaded on first use.
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { RecommenderService } from './recommender.js';
import { createService } from './experiment.js';
import { errorBody, errorHandler, recsysPlugin, type RecsysPluginOptions } from './plugin.js';
import { connectionLimits, guardConnections, type ConnectionOptions, type ResolvedConnectionLimits } from './limits.js';

export interface ServerOptions extends RecsysPluginOptions, ConnectionOptions {
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
  /** The timeouts and connection cap in force (defaults filled in). */
  limits: ResolvedConnectionLimits;
}

// Errors Node's HTTP parser raises before Fastify sees a request (a malformed request line, headers over 16 KiB,
// a client too slow to send its headers): answered in our error shape, then the socket is closed.
function clientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, text, code, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'E_TIMEOUT', 'the request was not received in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'E_TOO_LARGE', 'the request headers are too large']
        : [400, 'Bad Request', 'E_ARG', 'malformed HTTP request'];
  const body = JSON.stringify(errorBody(code, message));
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${text}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  socket.destroy();
}

export async function createServer(options: ServerOptions): Promise<RecsysServer> {
  const limits = connectionLimits(options);
  const { default: Fastify } = await import('fastify');
  const app = Fastify({
    logger: options.logger ?? { level: 'info' },
    logController: new Fastify.LogController({ disableRequestLogging: !options.logRequests }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // Refused in our own shape by the onRequest hook below.
    return503OnClosing: false,
    connectionTimeout: limits.connectionTimeout,
    keepAliveTimeout: limits.keepAliveTimeout,
    requestTimeout: limits.requestTimeout,
    http: { headersTimeout: limits.headersTimeout, requestTimeout: limits.requestTimeout, connectionsCheckingInterval: limits.checkInterval },
    clientErrorHandler: clientError,
    // Ids may be up to 512 characters (the schemas' limit; Fastify's default is 100).
    routerOptions: { maxParamLength: 512 },
    // Errors before routing (a path parameter over the limit, a malformed URL) get the same JSON error body.
    frameworkErrors: (err, req, reply) => errorHandler(err, req, reply),
  });
  const recommender =
    options.recommender ??
    createService({
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
  let refusing = false;
  app.addHook('onRequest', (_req, reply, done) => {
    // Counted down when the response closes, whatever ends it: a reply, a timeout or the client going away
    // (onResponse does not run for the last two, and close() would wait for them until its deadline).
    inFlight++;
    reply.raw.once('close', () => inFlight--);
    if (closing) reply.header('connection', 'close');
    if (refusing) {
      reply.code(503).send(errorBody('E_UNAVAILABLE', 'the server is shutting down'));
      return;
    }
    done();
  });
  await app.register(recsysPlugin, { ...options, recommender });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(errorBody('E_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`));
  });
  guardConnections(app.server, limits.maxConnections);
  return {
    app,
    recommender,
    limits,
    async listen(o = {}) {
      return app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 8080 });
    },
    async close() {
      closing = true;
      const deadline = Date.now() + 30_000;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      refusing = true;
      await app.close();
    },
  };
}
