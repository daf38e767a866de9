import { afterAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { createRecommender, recsysPlugin, type RecsysServer } from '../../ts/index.js';
import { factorModel, tempDir } from '../io/helpers.js';
import { baseline, popularity, server } from './fixtures.js';

const tmp = tempDir('recsys-routes-');
afterAll(() => tmp.remove());

type Json = Record<string, any>;

describe('HTTP routes', async () => {
  const pop = popularity();
  const popFile = tmp.path('pop.rsm');
  pop.save(popFile);
  const s: RecsysServer = await server({ model: popFile, maxK: 50, maxBatch: 5, maxItems: 20, bodyLimit: 4096 });
  afterAll(() => s.close());
  const get = async (url: string, headers: Record<string, string> = {}) => {
    const r = await s.app.inject({ method: 'GET', url, headers });
    const body: any = String(r.headers['content-type']).includes('json') ? r.json() : r.body;
    return { status: r.statusCode, body, headers: r.headers };
  };
  const post = async (url: string, payload: unknown, headers: Record<string, string> = {}) => {
    const r = await s.app.inject({ method: 'POST', url, payload: payload as string, headers });
    return { status: r.statusCode, body: r.json<Json>(), headers: r.headers };
  };

  it('GET recommendations for a user (numeric ids given as text)', async () => {
    const r = await get('/v1/users/7/recommendations?k=5');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ user: '7', items: pop.recommend(7, { k: 5 }) });
    expect(r.headers['x-recsys-model']).toMatch(/^xxh64:/);
    expect((await get('/v1/users/7/recommendations')).body.items).toHaveLength(10);
    // exclude: comma-separated or repeated; filterSeen=false brings seen items back.
    const ex = pop.recommend(7, { k: 3 }).map((x) => x.item);
    const r2 = await get(`/v1/users/7/recommendations?k=5&exclude=${ex[0]},${ex[1]}&exclude=${ex[2]}&exclude=nope`);
    expect(r2.body.items).toEqual(pop.recommend(7, { k: 5, exclude: ex }));
    const r3 = await get('/v1/users/7/recommendations?k=12&filterSeen=false');
    expect(r3.body.items).toEqual(pop.recommend(7, { k: 12, filterSeen: false }));
  });

  it('404 with a clear body for unknown users and items; non-canonical numbers are not ids', async () => {
    for (const url of ['/v1/users/999/recommendations', '/v1/users/07/recommendations', '/v1/users/7.0/recommendations', '/v1/users/abc/recommendations']) {
      const r = await get(url);
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ error: { code: 'E_UNKNOWN_USER', message: expect.stringMatching(/^unknown user "/) } });
    }
    const r = await get('/v1/items/5/similar');
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('E_UNKNOWN_ITEM');
    const nf = await get('/v2/whatever');
    expect(nf.status).toBe(404);
    expect(nf.body.error.code).toBe('E_NOT_FOUND');
  });

  it('validates k and the sizes of lists', async () => {
    for (const k of ['0', '-1', '51', '2.5', 'ten', '']) {
      const r = await get(`/v1/users/7/recommendations?k=${k}`);
      expect(r.status, `k=${k}`).toBe(400);
      expect(r.body.error.code).toBe('E_ARG');
    }
    expect((await get('/v1/users/7/recommendations?k=50')).status).toBe(200);
    const long = await get(`/v1/users/${'9'.repeat(513)}/recommendations`);
    expect(long.status).toBe(414);
    expect(long.body.error.code).toBe('E_TOO_LARGE');
    const many = Array.from({ length: 21 }, (_, i) => String(100 + i)).join(',');
    expect((await get(`/v1/users/7/recommendations?exclude=${many}`)).status).toBe(400);
  });

  it('POST /v1/recommendations folds in a new user (ids as numbers or text)', async () => {
    const r = await post('/v1/recommendations', { items: [101, '102', 'unknown'], k: 4 });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ items: pop.recommendForNewUser({ items: [101, 102] }, { k: 4 }) });
    // No known item: 404 E_UNKNOWN_ITEM (the API and CLI say the same), or the popularity fallback, flagged.
    for (const items of [[], ['unknown', 99999]]) {
      const none = await post('/v1/recommendations', { items, k: 3 });
      expect(none.status).toBe(404);
      expect(none.body.error).toMatchObject({ code: 'E_UNKNOWN_ITEM', message: expect.stringMatching(/none of the \d given items is known/) });
    }
    const top = pop.trainData.items.ids.map((id, i) => ({ id, n: pop.trainData.csc.indptr[i + 1]! - pop.trainData.csc.indptr[i]! }));
    top.sort((a, b) => b.n - a.n || pop.trainData.items.index(a.id) - pop.trainData.items.index(b.id));
    const r2 = await post('/v1/recommendations', { items: ['unknown'], k: 3, exclude: [top[0]!.id], fallback: 'popularity' });
    expect(r2.status).toBe(200);
    expect(r2.body).toEqual({ fallback: 'popularity', items: top.slice(1, 4).map((t) => ({ item: t.id, score: t.n })) });
    expect(r2.body.items).toEqual(pop.recommendForNewUser({ items: [] }, { k: 3, exclude: [top[0]!.id], fallback: 'popularity' }));
    // A known item never falls back (no flag).
    expect((await post('/v1/recommendations', { items: [101], fallback: 'popularity' })).body.fallback).toBeUndefined();
    expect((await post('/v1/recommendations', { items: [101], fallback: 'random' })).status).toBe(400);
    const bad: [unknown, RegExp][] = [
      [{}, /items/],
      [{ items: 'x' }, /array/],
      [{ items: [true] }, /string|number/],
      [{ items: [{}] }, /string|number/],
      [{ items: [1], ratings: [1, 2] }, /one number per item/],
      [{ items: [1], k: 0 }, /k/],
      [{ items: Array.from({ length: 21 }, (_, i) => i) }, /20/],
    ];
    for (const [payload, message] of bad) {
      const e = await post('/v1/recommendations', payload);
      expect(e.status, JSON.stringify(payload)).toBe(400);
      expect(e.body.error).toMatchObject({ code: 'E_ARG', message: expect.stringMatching(message) });
    }
  });

  it('rejects bodies that are not JSON, too large, or of another type', async () => {
    const notJson = await s.app.inject({
      method: 'POST',
      url: '/v1/recommendations',
      payload: '{"items": [1,',
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error.code).toBe('E_ARG');
    const big = await s.app.inject({
      method: 'POST',
      url: '/v1/recommendations',
      payload: JSON.stringify({ items: [1], pad: 'x'.repeat(5000) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('E_TOO_LARGE');
    const text = await s.app.inject({ method: 'POST', url: '/v1/recommendations', payload: '<items/>', headers: { 'content-type': 'application/xml' } });
    expect(text.statusCode).toBe(415);
    expect(text.json().error.code).toBe('E_MEDIA_TYPE');
  });

  it('POST /v1/recommendations/batch answers every user, with an error entry for unknown ones', async () => {
    const r = await post('/v1/recommendations/batch', { users: [7, '8', 'ghost'], k: 3 });
    expect(r.status).toBe(200);
    expect(r.body.results).toEqual([
      { user: 7, items: pop.recommend(7, { k: 3 }) },
      { user: '8', items: pop.recommend(8, { k: 3 }) },
      // The id rule's type hint (issue 12, item 12): the same message as the API and the CLI.
      {
        user: 'ghost',
        error: { code: 'E_UNKNOWN_USER', message: `unknown user "ghost" ("ghost" is a string, not a canonical number; this model's user ids are numbers)` },
      },
    ]);
    expect((await post('/v1/recommendations/batch', { users: [] })).status).toBe(400);
    expect((await post('/v1/recommendations/batch', { users: [1, 2, 3, 4, 5, 6] })).status).toBe(400);
  });

  it('GET similar items, and 501 where the model has no similarity', async () => {
    const f = factorModel(10, 30, 4, 5);
    const fs = await server({ model: f });
    const r = await fs.app.inject({ url: '/v1/items/1003/similar?k=4' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ item: '1003', items: f.similarItems(1003, 4) });
    expect((await fs.app.inject({ url: '/v1/items/1003/similar?k=0' })).statusCode).toBe(400);
    // FactorModel has no fold-in.
    const fold = await fs.app.inject({ method: 'POST', url: '/v1/recommendations', payload: { items: [1003] } });
    expect(fold.statusCode).toBe(501);
    expect(fold.json().error.code).toBe('E_UNSUPPORTED');
    await fs.close();
    const b = await server({ model: baseline() });
    const nb = await b.app.inject({ url: '/v1/items/101/similar' });
    expect(nb.statusCode).toBe(501);
    await b.close();
  });

  it('GET /healthz is the status only; GET /v1/status says what is served', async () => {
    const r = await get('/healthz');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok' });
    const st = await get('/v1/status');
    expect(st.status).toBe(200);
    expect(st.body).toMatchObject({
      status: 'ok',
      version: expect.any(String),
      model: { class: 'Popularity', path: popFile, users: 40, items: pop.trainData.nItems, checksum: expect.stringMatching(/^xxh64:/) },
      reloads: { ok: 0, failed: 0 },
    });
    expect(st.body.model.params).toEqual({ ...pop.params });
  });

  it('GET /metrics is Prometheus text with per-route counters and latency histograms', async () => {
    await get('/v1/users/7/recommendations');
    await get('/v1/users/999/recommendations');
    const r = await get('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    const text = r.body as string;
    const lines = text.trim().split('\n');
    for (const l of lines) expect(l).toMatch(/^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[^}]*\})? [0-9.e+-]+)$/);
    const count = (re: RegExp) =>
      Number(
        lines
          .find((l) => re.test(l))
          ?.split(' ')
          .pop(),
      );
    expect(count(/^recsys_http_requests_total\{method="GET",route="\/v1\/users\/:id\/recommendations",status="200"\}/)).toBeGreaterThan(0);
    expect(count(/^recsys_http_requests_total\{method="GET",route="\/v1\/users\/:id\/recommendations",status="404"\}/)).toBeGreaterThan(0);
    expect(count(/^recsys_http_request_duration_seconds_bucket\{route="\/v1\/users\/:id\/recommendations",le="\+Inf"\}/)).toBeGreaterThan(1);
    expect(text).toContain('recsys_model_info{class="Popularity"');
    expect(text).toMatch(/process_resident_memory_bytes \d+/);
  });

  it('GET /docs/json is an OpenAPI 3.1 document of every route', async () => {
    const r = await get('/docs/json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    expect(Object.keys(r.body.paths).sort()).toEqual(
      [
        '/docs/json',
        '/healthz',
        '/metrics',
        '/v1/items/attributes',
        '/v1/items/{id}/similar',
        '/v1/recommendations',
        '/v1/recommendations/batch',
        '/v1/status',
        '/v1/users/{id}/items/{item}/explanation',
        '/v1/users/{id}/recommendations',
      ].sort(),
    );
    const op = r.body.paths['/v1/users/{id}/recommendations'].get;
    expect(op.parameters.map((p: Json) => p.name)).toEqual(['id', 'k', 'exclude', 'filterSeen']);
    expect(op.parameters[1].schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 50 });
    expect(r.body.paths['/v1/recommendations'].post.requestBody.content['application/json'].schema.required).toEqual(['items']);
  });

  it('CORS is off by default', async () => {
    const r = await get('/v1/users/7/recommendations', { origin: 'https://example.org' });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('auth and CORS options', () => {
  it('a bearer token guards /v1 and /metrics, not /healthz or /docs/json', async () => {
    const s = await server({ model: popularity(), token: ['s3cret', 'other'] });
    const r = (url: string, auth?: string) => s.app.inject({ url, headers: auth ? { authorization: auth } : {} });
    const none = await r('/v1/users/7/recommendations');
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.json()).toEqual({ error: { code: 'E_UNAUTHORIZED', message: 'a valid bearer token is required' } });
    expect((await r('/v1/users/7/recommendations', 'Bearer wrong')).statusCode).toBe(401);
    expect((await r('/v1/users/7/recommendations', 's3cret')).statusCode).toBe(401);
    expect((await r('/v1/users/7/recommendations', 'Bearer s3cret')).statusCode).toBe(200);
    expect((await r('/v1/users/7/recommendations', 'Bearer other')).statusCode).toBe(200);
    // The scheme is case-insensitive (RFC 7235), the token is not.
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) expect((await r('/v1/users/7/recommendations', `${scheme} s3cret`)).statusCode).toBe(200);
    expect((await r('/v1/users/7/recommendations', 'Bearer S3CRET')).statusCode).toBe(401);
    expect((await r('/v1/users/7/recommendations', 'Bearer ')).statusCode).toBe(401);
    const t0 = performance.now();
    expect((await r('/v1/users/7/recommendations', `Bearer s3cret${' '.repeat(15000)}x`)).statusCode).toBe(401);
    expect(performance.now() - t0).toBeLessThan(500);
    expect((await r('/metrics')).statusCode).toBe(401);
    expect((await s.app.inject({ method: 'POST', url: '/v1/recommendations/batch', payload: { users: [7] } })).statusCode).toBe(401);
    // /healthz tells nothing about the file, params or reload errors; /v1/status does, behind the token.
    const h = await r('/healthz');
    expect(h.statusCode).toBe(200);
    expect(h.json()).toEqual({ status: 'ok' });
    expect((await r('/v1/status')).statusCode).toBe(401);
    expect((await r('/v1/status', 'bearer s3cret')).json().model.class).toBe('Popularity');
    const doc = await r('/docs/json');
    expect(doc.statusCode).toBe(200);
    expect(doc.json().components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    await s.close();
  });

  it('CORS for listed origins, with preflight', async () => {
    const s = await server({ model: popularity(), cors: ['https://shop.example'] });
    const ok = await s.app.inject({ url: '/v1/users/7/recommendations', headers: { origin: 'https://shop.example' } });
    expect(ok.headers['access-control-allow-origin']).toBe('https://shop.example');
    const other = await s.app.inject({ url: '/v1/users/7/recommendations', headers: { origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const pre = await s.app.inject({
      method: 'OPTIONS',
      url: '/v1/recommendations',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-methods']).toContain('POST');
    await s.close();
  });
});

describe('embedding', () => {
  it('registers as a plugin under a prefix in an app of your own', async () => {
    const app = Fastify();
    app.get('/', async () => ({ app: 'shop' }));
    const pop = popularity();
    await app.register(recsysPlugin, { model: pop, prefix: '/recs', eventLoopMetrics: false });
    expect((await app.inject({ url: '/' })).json()).toEqual({ app: 'shop' });
    const r = await app.inject({ url: '/recs/v1/users/7/recommendations?k=3' });
    expect(r.json().items).toEqual(pop.recommend(7, { k: 3 }));
    expect(Object.keys((await app.inject({ url: '/recs/docs/json' })).json().paths)).toContain('/recs/v1/users/{id}/recommendations');
    await app.close();
  });

  it('shares one createRecommender service with the plugin', async () => {
    const svc = createRecommender({ model: popularity(), eventLoopMetrics: false, logger: { info() {}, warn() {}, error() {} } });
    const app = Fastify();
    await app.register(recsysPlugin, { recommender: svc });
    expect((await app.inject({ url: '/v1/users/7/recommendations?k=2' })).json().items).toEqual(svc.recommend('7', { k: 2 }).items);
    await app.close();
    svc.close();
  });
});
