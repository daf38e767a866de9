// The HTTP API as a Fastify plugin: routes with JSON-schema validation, bearer-token auth, CORS (off unless
// asked for), Prometheus metrics and an OpenAPI 3.1 document built from the same route table. It imports only
// Fastify's types, so importing recsys does not load Fastify; register it in an app of your own:
//
//   app.register(recsysPlugin, { model: 'als.rsm', prefix: '/recs' });
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import { RecsysError, type RecsysErrorCode } from '../errors.js';
import type { Id } from '../data/idmap.js';
import { packageVersion } from '../info.js';
import type { CreateRecommenderOptions, RecommenderService, RequestOptions } from './recommender.js';
import { createService, isExperiment, type ExperimentOptions } from './experiment.js';

export interface RecsysPluginOptions extends Partial<Omit<CreateRecommenderOptions, 'logger'>> {
  /** A service made with createRecommender (shared with other code); otherwise one is made from `model`. */
  recommender?: RecommenderService;
  /** Require `Authorization: Bearer <token>` on /v1 routes and /metrics (one token or several). Default: none. */
  token?: string | readonly string[];
  /** Allowed browser origins for CORS ('*' for any). Default: CORS off. */
  cors?: string | readonly string[];
  /** Largest request body in bytes. Default 1 MiB. */
  bodyLimit?: number;
  /** Serve GET /metrics. Default true. */
  metrics?: boolean;
  /** Serve GET /docs/json. Default true. */
  docs?: boolean;
  /** Serve two models: A/B split by user or B in the shadow of A (see ts/serve/experiment.ts). */
  experiment?: ExperimentOptions;
}

interface ErrorBody {
  error: { code: string; message: string };
}

const STATUS: Partial<Record<RecsysErrorCode | string, number>> = {
  E_ARG: 400,
  E_UNKNOWN_USER: 404,
  E_UNKNOWN_ITEM: 404,
  E_UNSUPPORTED: 501,
  E_NOT_FITTED: 503,
};

/** Our error shape, for every error the server answers. */
export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

// ---- schemas ----
const id = { type: ['string', 'number'], minLength: 1, maxLength: 512 } as const;
const explanationSchema = {
  type: 'object',
  properties: {
    item: { type: ['string', 'number'] },
    method: { type: 'string' },
    approximate: { type: 'boolean' },
    score: { type: 'number' },
    modelScore: { type: 'number' },
    historySize: { type: 'integer' },
    contributions: {
      type: 'array',
      items: { type: 'object', properties: { item: { type: ['string', 'number'] }, contribution: { type: 'number' }, value: { type: 'number' } } },
    },
  },
} as const;
const itemScore = {
  type: 'object',
  properties: { item: { type: ['string', 'number'] }, score: { type: 'number' }, pinned: { type: 'boolean' }, explanation: explanationSchema },
  required: ['item', 'score'],
} as const;
// Rules are checked by the service (E_ARG naming the bad part); the schema only fixes their JSON types.
const ruleSchema = {
  filter: { type: 'object', description: 'attribute conditions, e.g. { "category": ["books"], "in_stock": true, "price": { "lt": 20 } }' },
  boost: { type: 'array', maxItems: 8, items: { type: 'object' }, description: '[{ filter, multiply?, add? }]: boosted scores, re-ranked exactly' },
  pin: { type: 'array', maxItems: 1000, items: { type: 'object' }, description: '[{ item, position }]: items forced to 0-based positions' },
  diversity: { type: 'object', description: '{ lambda? (MMR, 1 = off), caps? { attribute: count }, candidates? }' },
  explain: { type: 'boolean', description: 'attach an explanation to each item' },
} as const;
const armSchema = { type: 'string', description: 'with two models served: the arm (A or B) that answered' } as const;
const errorSchema = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
  required: ['error'],
} as const;
const errors = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 413: errorSchema, 415: errorSchema, 501: errorSchema };

function kSchema(maxK: number) {
  return { type: 'integer', minimum: 1, maximum: maxK, description: `how many items (default 10, at most ${maxK})` };
}

interface RouteDef {
  method: 'GET' | 'POST';
  url: string;
  summary: string;
  auth: boolean;
  schema: Record<string, unknown>;
  handler: (req: FastifyRequest, reply: FastifyReply) => void;
}

// "a,b" and ["a", "b,c"] both become a list; query strings carry ids as text.
function splitList(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  const parts = Array.isArray(v) ? v : [v];
  const out: string[] = [];
  for (const p of parts) for (const s of String(p).split(',')) if (s.length) out.push(s);
  return out;
}

function tokenCheck(tokens: readonly string[]): (header: string | undefined) => boolean {
  // Compare digests so the comparison takes the same time whatever the token's length.
  const digests = tokens.map((t) => createHash('sha256').update(t).digest());
  return (header) => {
    // The scheme name is case-insensitive (RFC 7235 section 2.1).
    // (A prefix match and trim(): a lazy group before \s*$ would backtrack quadratically on a long header.)
    const m = header === undefined ? null : /^\s*bearer\s/i.exec(header);
    if (!m) return false;
    const d = createHash('sha256').update(header!.slice(m[0].length).trim()).digest();
    let ok = false;
    for (const t of digests) ok = timingSafeEqual(t, d) || ok;
    return ok;
  };
}

/** Every error as { error: { code, message } } with the status its code implies. */
export function errorHandler(err: FastifyError | RecsysError, req: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof RecsysError) {
    const status = STATUS[err.code] ?? 500;
    if (status === 500) req.log.error(err);
    reply.code(status).send(errorBody(err.code, err.message));
    return;
  }
  const e = err;
  if (e.validation) {
    reply.code(400).send(errorBody('E_ARG', e.message));
    return;
  }
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
  const codes: Record<number, string> = {
    400: 'E_ARG',
    404: 'E_NOT_FOUND',
    408: 'E_TIMEOUT',
    413: 'E_TOO_LARGE',
    414: 'E_TOO_LARGE',
    415: 'E_MEDIA_TYPE',
    431: 'E_TOO_LARGE',
    503: 'E_UNAVAILABLE',
  };
  const code = codes[status] ?? (status >= 500 ? 'E_INTERNAL' : 'E_HTTP');
  if (status >= 500) req.log.error(err);
  const message =
    status === 503
      ? 'the server cannot answer now'
      : status >= 500
        ? 'internal error'
        : status === 414
          ? 'the URL is too long (ids have at most 512 characters)'
          : e.message;
  reply.code(status).send(errorBody(code, message));
}

/** Builds the OpenAPI 3.1 document of the routes (JSON Schema 2020-12 allows the id type ["string", "number"]). */
function openapi(prefix: string, routes: RouteDef[], withAuth: boolean): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const url = (prefix + r.url).replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const s = r.schema as {
      params?: { properties: Record<string, unknown> };
      querystring?: { properties: Record<string, unknown> };
      body?: unknown;
      response?: Record<string, unknown>;
    };
    const parameters: unknown[] = [];
    for (const [name, schema] of Object.entries(s.params?.properties ?? {})) parameters.push({ name, in: 'path', required: true, schema });
    for (const [name, schema] of Object.entries(s.querystring?.properties ?? {})) {
      const sch = schema as { description?: string };
      parameters.push({ name, in: 'query', required: false, schema, description: sch.description });
    }
    const responses: Record<string, unknown> = {};
    for (const [code, schema] of Object.entries(s.response ?? {})) {
      const text = (schema as { type?: string }).type === 'string';
      responses[code] = {
        description: code === '200' ? 'OK' : `error (${code})`,
        content: { [text ? 'text/plain' : 'application/json']: { schema } },
      };
    }
    paths[url] ??= {};
    paths[url][r.method.toLowerCase()] = {
      summary: r.summary,
      parameters: parameters.length ? parameters : undefined,
      requestBody: s.body ? { required: true, content: { 'application/json': { schema: s.body } } } : undefined,
      responses,
      security: r.auth && withAuth ? [{ bearer: [] }] : undefined,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'recsys recommendation API',
      version: packageVersion(),
      description: 'Recommendations from a recsys model file. Ids are strings or numbers, as the model knows them.',
    },
    paths,
    components: withAuth ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } : undefined,
  };
}

/** The recsys HTTP API as a Fastify plugin (see the README's "Serving" section). */
export const recsysPlugin: FastifyPluginAsync<RecsysPluginOptions> = async (app: FastifyInstance, opts: RecsysPluginOptions) => {
  // Our own Ajv: Fastify's defaults (defaults, stripping unknown properties) plus union types, so an id is
  // "string or number" without coercing one into the other. Query strings and path parameters are text and
  // coerced ("10" -> 10, "a" -> ["a"]); JSON bodies are not.
  const { Ajv } = await import('ajv');
  const base = { useDefaults: true, removeAdditional: true, allErrors: false, allowUnionTypes: true } as const;
  const textAjv = new Ajv({ ...base, coerceTypes: 'array' });
  const bodyAjv = new Ajv({ ...base, coerceTypes: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));
  const owned = !opts.recommender;
  const service =
    opts.recommender ??
    createService({
      ...opts,
      model: opts.model!,
      logger: {
        info: (m) => app.log.info(m),
        warn: (m) => app.log.warn(m),
        error: (m) => app.log.error(m),
      },
    });
  if (owned) app.addHook('onClose', async () => service.close());
  const { maxK, maxBatch, maxItems } = service.limits;
  const bodyLimit = opts.bodyLimit ?? 1024 * 1024;
  const tokens = opts.token === undefined ? [] : typeof opts.token === 'string' ? [opts.token] : [...opts.token];
  if (tokens.some((t) => typeof t !== 'string' || t.length === 0)) throw new RecsysError('E_ARG', 'token must be a non-empty string');
  const authorized = tokens.length ? tokenCheck(tokens) : undefined;
  const origins = opts.cors === undefined ? undefined : typeof opts.cors === 'string' ? [opts.cors] : [...opts.cors];

  // With an experiment, a user's answer names the arm that gave it (x-recsys-arm) and that arm's model.
  const modelHeaders = (user?: Id): Record<string, string> => {
    if (user === undefined || !isExperiment(service)) return { 'x-recsys-model': service.served.checksum };
    const arm = service.armOf(user);
    return { 'x-recsys-model': service.arms[arm].served.checksum, 'x-recsys-arm': arm };
  };
  const sendModelHeader = (reply: FastifyReply, user?: Id) => reply.headers(modelHeaders(user));
  const list = (ids: readonly Id[] | undefined) => ids;
  const idList = (max: number) => ({ type: 'array', maxItems: max, items: id });
  const common = {
    k: kSchema(maxK),
    exclude: { ...idList(maxItems), description: 'item ids never to return' },
    filterSeen: { type: 'boolean', description: 'leave out seen items (default true)' },
    ...ruleSchema,
  };
  const queryCommon = {
    k: kSchema(maxK),
    exclude: {
      type: 'array',
      maxItems: maxItems,
      items: { type: 'string', maxLength: 65536 },
      description: 'item ids never to return, comma-separated (or repeated)',
    },
    filterSeen: { type: 'boolean', description: "leave out the user's training items (default true)" },
  };

  const routes: RouteDef[] = [
    {
      method: 'GET',
      url: '/v1/users/:id/recommendations',
      summary: 'Top-k items for a user the model was trained on',
      auth: true,
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 512 } }, required: ['id'] },
        querystring: { type: 'object', properties: queryCommon },
        response: { 200: { type: 'object', properties: { user: id, items: { type: 'array', items: itemScore }, arm: armSchema } }, ...errors },
      },
      handler(req, reply) {
        const q = req.query as { k?: number; exclude?: string[]; filterSeen?: boolean };
        const user = (req.params as { id: string }).id;
        // Taken now: the model current when the request came in is the one that answers it.
        const headers = modelHeaders(user);
        service.recommendAsync(user, { k: q.k, exclude: splitList(q.exclude), filterSeen: q.filterSeen }).then(
          (r) => reply.headers(headers).send(r),
          (err: unknown) => reply.send(err),
        );
      },
    },
    {
      method: 'POST',
      url: '/v1/users/:id/recommendations',
      summary: 'Top-k items for a user the model was trained on, with rules (filter, boost, pin, diversity, explain)',
      auth: true,
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 512 } }, required: ['id'] },
        body: { type: 'object', properties: common },
        response: { 200: { type: 'object', properties: { user: id, items: { type: 'array', items: itemScore }, arm: armSchema } }, ...errors },
      },
      handler(req, reply) {
        const user = (req.params as { id: string }).id;
        sendModelHeader(reply, user).send(service.recommend(user, req.body as RequestOptions));
      },
    },
    {
      method: 'GET',
      url: '/v1/users/:id/items/:item/explanation',
      summary: "Why an item scores as it does for a user: the user's history items with the largest contributions",
      auth: true,
      schema: {
        params: {
          type: 'object',
          properties: { id: { type: 'string', minLength: 1, maxLength: 512 }, item: { type: 'string', minLength: 1, maxLength: 512 } },
          required: ['id', 'item'],
        },
        querystring: {
          type: 'object',
          properties: { top: { type: 'integer', minimum: 0, maximum: maxItems, description: 'contributions listed (default 10)' } },
        },
        response: { 200: explanationSchema, ...errors },
      },
      handler(req, reply) {
        const p = req.params as { id: string; item: string };
        sendModelHeader(reply, p.id).send(service.explain(p.id, p.item, { top: (req.query as { top?: number }).top }));
      },
    },
    {
      method: 'POST',
      url: '/v1/items/attributes',
      summary: 'Replaces the item attributes rules use (or with merge: true adds / replaces records)',
      auth: true,
      schema: {
        body: {
          type: 'object',
          required: ['attributes'],
          properties: { attributes: { type: ['object', 'array'] }, merge: { type: 'boolean' } },
        },
        response: { 200: { type: 'object', properties: { items: { type: 'integer' } } }, ...errors },
      },
      handler(req, reply) {
        const b = req.body as { attributes: object; merge?: boolean };
        reply.send(service.setAttributes(b.attributes, { merge: b.merge }));
      },
    },
    {
      method: 'POST',
      url: '/v1/recommendations',
      summary: 'Top-k items for a new or anonymous user, from the items they interacted with (fold-in)',
      auth: true,
      schema: {
        body: {
          type: 'object',
          required: ['items'],
          properties: {
            items: idList(maxItems),
            ratings: { type: 'array', maxItems: maxItems, items: { type: 'number' } },
            ...common,
            fallback: {
              type: 'string',
              enum: ['error', 'popularity'],
              description: "none of the items known: 'error' (default, 404 E_UNKNOWN_ITEM) or 'popularity' (the most popular items, flagged)",
            },
          },
        },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: itemScore }, fallback: { type: 'string' } } }, ...errors },
      },
      handler(req, reply) {
        const b = req.body as RequestOptions & { items: Id[]; ratings?: number[]; fallback?: 'error' | 'popularity' };
        const { items, ratings, ...rest } = b;
        sendModelHeader(reply).send(service.recommendForItems({ items, ratings }, { ...rest, exclude: list(b.exclude) }));
      },
    },
    {
      method: 'POST',
      url: '/v1/recommendations/batch',
      summary: 'Top-k items for many users at once (an unknown user gets an error entry)',
      auth: true,
      schema: {
        body: { type: 'object', required: ['users'], properties: { users: { ...idList(maxBatch), minItems: 1 }, ...common } },
        response: {
          200: {
            type: 'object',
            properties: {
              results: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { user: id, items: { type: 'array', items: itemScore }, error: errorSchema.properties.error, arm: armSchema },
                },
              },
            },
          },
          ...errors,
        },
      },
      handler(req, reply) {
        const b = req.body as RequestOptions & { users: Id[] };
        const { users, ...rest } = b;
        sendModelHeader(reply).send(service.recommendBatch(users, rest));
      },
    },
    {
      method: 'GET',
      url: '/v1/items/:id/similar',
      summary: 'Items most similar to an item',
      auth: true,
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 512 } }, required: ['id'] },
        querystring: { type: 'object', properties: { k: kSchema(maxK) } },
        response: { 200: { type: 'object', properties: { item: id, items: { type: 'array', items: itemScore } } }, ...errors },
      },
      handler(req, reply) {
        const q = req.query as { k?: number };
        sendModelHeader(reply).send(service.similarItems((req.params as { id: string }).id, { k: q.k }));
      },
    },
    {
      method: 'GET',
      url: '/healthz',
      summary: 'Liveness only ({ status: "ok" }); details are at /v1/status',
      auth: false,
      schema: { response: { 200: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'] } } },
      handler(_req, reply) {
        reply.send(service.health());
      },
    },
    {
      method: 'GET',
      url: '/v1/status',
      summary: 'The model served (class, file, checksum, params), reloads and the last reload error, the version',
      auth: true,
      schema: { response: { 200: { type: 'object', additionalProperties: true }, ...errors } },
      handler(_req, reply) {
        reply.send(service.status());
      },
    },
  ];
  // The event routes exist when the service has an event log (createRecommender's `events`, --events-dir).
  if (service.status().events !== undefined) {
    routes.push(
      {
        method: 'POST',
        url: '/v1/events',
        summary: 'Append interactions to the event log; answered once they are durable, after which recommendations reflect them',
        auth: true,
        schema: {
          body: {
            type: 'object',
            required: ['events'],
            properties: {
              events: {
                type: 'array',
                minItems: 1,
                maxItems: maxItems,
                items: {
                  type: 'object',
                  required: ['user', 'item'],
                  properties: {
                    user: id,
                    item: id,
                    value: { type: 'number', description: 'weight (a count, a rating); default 1' },
                    timestamp: { type: 'number' },
                  },
                },
              },
            },
          },
          response: {
            200: { type: 'object', properties: { accepted: { type: 'integer' }, offset: { type: 'integer' }, unknownItems: { type: 'integer' } } },
            ...errors,
          },
        },
        handler(req, reply) {
          const b = req.body as { events: { user: Id; item: Id; value?: number; timestamp?: number }[] };
          service.ingest(b.events).then(
            (r) => reply.send(r),
            (err: unknown) => reply.send(err),
          );
        },
      },
      {
        method: 'POST',
        url: '/v1/refit',
        summary: 'Fold the logged events into a new model (ImplicitALS: partialFit; others: a full fit on a worker) and swap it in',
        auth: true,
        schema: {
          body: { type: ['object', 'null'], properties: { mode: { type: 'string', enum: ['partial', 'full'] } } },
          response: { 200: { type: 'object', additionalProperties: true }, ...errors },
        },
        handler(req, reply) {
          const b = req.body as { mode?: 'partial' | 'full' } | null | undefined;
          service.refit({ mode: b?.mode ?? undefined }).then(
            (r) => reply.send(r),
            (err: unknown) => reply.send(err),
          );
        },
      },
    );
  }
  if (opts.metrics ?? true) {
    routes.push({
      method: 'GET',
      url: '/metrics',
      summary: 'Prometheus metrics (text format 0.0.4)',
      auth: true,
      schema: { response: { 200: { type: 'string' } } },
      handler(_req, reply) {
        reply.type('text/plain; version=0.0.4; charset=utf-8').send(service.renderMetrics());
      },
    });
  }
  let doc: Record<string, unknown> | undefined;
  if (opts.docs ?? true) {
    routes.push({
      method: 'GET',
      url: '/docs/json',
      summary: 'This OpenAPI document',
      auth: false,
      schema: {},
      handler(_req, reply) {
        reply.send(doc);
      },
    });
  }
  doc = openapi(app.prefix, routes, tokens.length > 0);

  // ---- hooks: CORS, auth, metrics; errors as { error: { code, message } } ----
  if (origins) {
    const any = origins.includes('*');
    app.addHook('onRequest', (req, reply, done) => {
      const origin = req.headers.origin;
      if (origin && (any || origins.includes(origin))) {
        reply.header('access-control-allow-origin', any ? '*' : origin);
        if (!any) reply.header('vary', 'Origin');
        reply.header('access-control-allow-headers', 'authorization, content-type');
        reply.header('access-control-allow-methods', 'GET, POST, OPTIONS');
        reply.header('access-control-max-age', '600');
      }
      done();
    });
    app.options('/*', (_req, reply) => {
      reply.code(204).send();
    });
  }
  const protectedUrls = new Set(routes.filter((r) => r.auth).map((r) => r.url));
  if (authorized) {
    app.addHook('onRequest', (req, reply, done) => {
      const url = req.routeOptions.url;
      if (req.method !== 'OPTIONS' && url !== undefined && protectedUrls.has(url.slice(app.prefix.length)) && !authorized(req.headers.authorization)) {
        reply.code(401).header('www-authenticate', 'Bearer').send(errorBody('E_UNAUTHORIZED', 'a valid bearer token is required'));
        return;
      }
      done();
    });
  }
  app.addHook('onResponse', (req, reply, done) => {
    service.metrics.observe(req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.setErrorHandler(errorHandler);

  for (const r of routes) {
    const options: RouteShorthandOptions = { schema: r.schema, bodyLimit };
    if (r.method === 'GET') app.get(r.url, options, r.handler);
    else app.post(r.url, options, r.handler);
  }
};
