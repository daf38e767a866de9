// HTTP bodies, paths, query parameters and headers against the in-process server (Fastify inject).
// Oracle: never a 5xx; every error response in our shape { error: { code: 'E_…', message } } (Fastify's own
// 400/413/415/431 included: issue 12, item 14); 200 answers well-formed (k respected, ids of the model, finite
// sorted scores); /healthz without the token shows no model path; a fold-in with no known item is not an
// unflagged list of zero scores (item 7).
import { createServer, type RecsysServer } from '../../../ts/index.js';
import { EDGE_NUMBERS, Gen } from '../gen.js';
import { checkRecs, validK, wrong, type Target } from '../target.js';
import { fittedFiles } from './fitted.js';

interface Srv {
  name: string;
  server: RecsysServer;
  path: string;
  token?: string;
  users: string[];
  items: string[];
  itemSet: Set<string>;
}
interface Case {
  server: number;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

const MAX_K = 50;
const SEGMENTS = [
  '',
  '%00',
  '%ff',
  '..',
  '%2e%2e',
  'é',
  '%C3%A9',
  '-0',
  '07',
  '1e3',
  ' ',
  '%20',
  '__proto__',
  'constructor',
  'toString',
  '%E0%A4%A',
  'a/b',
  '%2F',
  '9'.repeat(600),
  '1.0',
  'null',
  'undefined',
  '[]',
  '{}',
];
const CONTENT_TYPES = [
  'text/plain',
  '',
  'application/json; charset=latin1',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/jsonx',
  'application/vnd.api+json',
];

function jsonValue(g: Gen, ids: string[], depth = 0): unknown {
  return g.weighted<unknown>([
    [4, () => (g.bool() ? g.pick(ids) : Number(g.pick(ids)) || g.pick(ids))],
    [2, () => g.pick(EDGE_NUMBERS)],
    [1, () => g.pick([null, true, false, '', 'nope', '__proto__', '5', 'x'.repeat(2000)])],
    [depth < 2 ? 1 : 0, () => g.array(g.int(0, 4), () => jsonValue(g, ids, depth + 1))],
    [depth < 2 ? 1 : 0, () => ({ [g.pick(['a', '__proto__', 'constructor', 'items'])]: jsonValue(g, ids, depth + 1) })],
  ]);
}

function idList(g: Gen, ids: string[], max: number): unknown {
  return g.weighted<unknown>([
    [6, () => g.array(g.size(6, max + 3), () => (g.bool(0.8) ? (g.bool() ? g.pick(ids) : Number(g.pick(ids)) || g.pick(ids)) : jsonValue(g, ids, 2)))],
    [1, () => jsonValue(g, ids)],
  ]);
}

function body(g: Gen, s: Srv, route: string): string {
  const raw = g.weighted<string | undefined>([
    [14, () => undefined],
    [
      1,
      () =>
        g.pick([
          '{',
          '{"items":[1,]}',
          '\u0000',
          'null',
          '[]',
          '5',
          '"x"',
          '{"items": [1], "items": "x"}',
          '{"__proto__": {"k": 1}, "items": []}',
          '{"constructor": {"prototype": {"k": 1}}, "items": []}',
        ]),
    ],
    [0.5, () => '['.repeat(g.int(10, 5000)) + ']'.repeat(g.int(0, 10))],
    [0.5, () => JSON.stringify({ items: Array.from({ length: g.int(100, 3000) }, () => g.pick(s.items)) })],
  ]);
  if (raw !== undefined) return raw;
  const o: Record<string, unknown> = {};
  if (route === 'batch') {
    if (g.bool(0.9)) o.users = idList(g, s.users, 5);
  } else if (g.bool(0.9)) o.items = idList(g, s.items, 20);
  if (route !== 'batch' && g.bool(0.3)) o.ratings = g.bool(0.7) ? g.array(g.int(0, 8), () => g.pick([1, 2, 3, 4, 5, 0, -1, 1e39])) : jsonValue(g, s.items);
  if (g.bool(0.6)) o.k = g.bool(0.8) ? g.int(1, MAX_K + 2) : jsonValue(g, s.items);
  if (g.bool(0.2)) o.exclude = idList(g, s.items, 20);
  if (g.bool(0.2)) o.filterSeen = g.bool(0.7) ? g.bool() : jsonValue(g, s.items);
  if (g.bool(0.1)) o[g.pick(['extra', '__proto__', 'constructor', 'include'])] = jsonValue(g, s.items);
  return JSON.stringify(o);
}

function query(g: Gen, s: Srv): string {
  const parts: string[] = [];
  for (let m = g.int(0, 3); m > 0; m--) {
    const key = g.pick(['k', 'k', 'exclude', 'exclude', 'filterSeen', 'include', '__proto__[x]', 'constructor[prototype][x]', 'x', '']);
    const value = g.weighted<string>([
      [4, () => (key === 'k' ? String(g.int(1, MAX_K + 3)) : key === 'filterSeen' ? String(g.bool()) : g.array(g.int(1, 4), () => g.pick(s.items)).join(','))],
      [2, () => g.pick(['0', '-1', 'ten', '', '1e3', '5.5', '999999999999', 'true', 'yes', '%ff', '%00', ',,,', 'nope', '[]', '1,2'])],
    ]);
    parts.push(`${key}=${value}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** The path of a request URL as a client resolves it (dot segments removed), or the raw path when it is no URL. */
function urlPath(url: string): string {
  try {
    return new URL(url, 'http://localhost').pathname;
  } catch {
    return url.split('?')[0]!;
  }
}

export const target: Target<Case, Srv[]> = {
  name: 'http',
  async setup() {
    const files = fittedFiles();
    const out: Srv[] = [];
    for (const [name, token] of [
      ['Popularity', undefined],
      ['FactorModel+foldIn', 'secret-token'],
      ['ItemKNN', undefined],
    ] as const) {
      const path = files.get(name)!;
      const server = await createServer({
        model: path,
        logger: false,
        eventLoopMetrics: false,
        maxK: MAX_K,
        maxBatch: 5,
        maxItems: 20,
        bodyLimit: 8192,
        token,
      });
      const ds = server.recommender.model.trainData;
      const users = ds.users.ids.map(String);
      const items = ds.items.ids.map(String);
      out.push({ name, server, path, token, users, items, itemSet: new Set(items) });
    }
    return out;
  },
  gen(g, servers) {
    const server = g.int(0, servers.length - 1);
    const s = servers[server]!;
    const route = g.weighted<string>([
      [5, () => 'user'],
      [3, () => 'item'],
      [5, () => 'new'],
      [2, () => 'batch'],
      [1, () => 'health'],
      [0.5, () => 'metrics'],
      [0.3, () => 'docs'],
      [0.7, () => 'other'],
    ]);
    const seg = () => (g.bool(0.7) ? g.pick(route === 'item' ? s.items : s.users) : g.bool(0.5) ? g.pick(SEGMENTS) : String(g.int(0, 99999)));
    const path = {
      user: () => `/v1/users/${seg()}/recommendations`,
      item: () => `/v1/items/${seg()}/similar`,
      new: () => '/v1/recommendations',
      batch: () => '/v1/recommendations/batch',
      health: () => '/healthz',
      metrics: () => '/metrics',
      docs: () => '/docs/json',
      other: () =>
        g.pick([
          '/',
          '/v1',
          '/v1/users/',
          '//v1/users/1/recommendations',
          `/v1/users/${s.users[0]}/recommendations/`,
          '/%',
          '/v1/users/%zz/recommendations',
          '/v1/recommendations/',
          '/V1/RECOMMENDATIONS',
        ]),
    }[route]!();
    const post = route === 'new' || route === 'batch';
    const method = g.bool(0.9) ? (post ? 'POST' : 'GET') : g.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
    const headers: Record<string, string> = {};
    if (s.token && g.bool(0.85))
      headers.authorization = g.bool(0.85)
        ? `Bearer ${s.token}`
        : g.pick([`bearer ${s.token}`, 'Bearer wrong', 'Basic eDp5', '', `Bearer  ${s.token}`, `BEARER ${s.token}`]);
    let payload: string | undefined;
    if (method === 'POST' || method === 'PUT' || method === 'PATCH' || g.bool(0.05)) {
      payload = body(g, s, route);
      headers['content-type'] = g.bool(0.9) ? 'application/json' : g.pick(CONTENT_TYPES);
    }
    if (g.bool(0.05))
      headers[g.pick(['accept', 'x-request-id', 'origin', 'content-encoding', 'transfer-encoding'])] = g.pick([
        '*/*',
        'text/html',
        'gzip',
        'chunked',
        'x'.repeat(3000),
        'https://example.invalid',
      ]);
    return { server, method, url: path + query(g, s), headers, payload };
  },
  show: (c) =>
    `server ${c.server}: ${c.method} ${c.url.slice(0, 300)} headers ${JSON.stringify(c.headers).slice(0, 200)}${c.payload !== undefined ? ` body ${JSON.stringify(c.payload.slice(0, 400))}` : ''}`,
  async run(c, servers) {
    const s = servers[c.server]!;
    const r = await s.server.app.inject({ method: c.method as 'GET', url: c.url, headers: c.headers, payload: c.payload });
    const status = r.statusCode;
    // 501 (the model cannot do this) and 503 (no model loaded yet) are answers; other 5xx are failures.
    if (status >= 500 && status !== 501 && status !== 503) wrong(`status ${status}: ${r.body.slice(0, 300)}`);
    if (c.method === 'HEAD') return `ok:HEAD`;
    const type = String(r.headers['content-type'] ?? '');
    let json: any;
    if (type.includes('json')) {
      try {
        json = JSON.parse(r.body);
      } catch {
        wrong(`status ${status}: content-type ${type} but the body is not JSON: ${r.body.slice(0, 200)}`);
      }
    }
    if (status >= 400) {
      const e = json?.error;
      if (!e || typeof e.code !== 'string' || !/^E_[A-Z_]+$/.test(e.code) || typeof e.message !== 'string')
        wrong(`status ${status} without our error shape: ${r.body.slice(0, 300)}`);
      return `HTTP_${status}:${e.code}`;
    }
    // The path the server routed: inject resolves the URL first ('/v1/users/../recommendations' is
    // '/v1/recommendations'), so the oracle must judge that one.
    const path = urlPath(c.url);
    if (path === '/healthz' && s.token && c.headers.authorization !== `Bearer ${s.token}` && r.body.includes(s.path))
      wrong('/healthz without the token shows the model path');
    if (status !== 200 || !json) return;
    const q = new URLSearchParams(c.url.split('?')[1] ?? '');
    const b = (() => {
      try {
        return c.payload ? JSON.parse(c.payload) : {};
      } catch {
        return {};
      }
    })();
    const has = (id: unknown) => s.itemSet.has(String(id));
    const kOf = (v: unknown) => validK(typeof v === 'string' ? Number(v) : v) ?? 10;
    // GET takes k from the query; POST (the rules route) from its body only.
    if (/^\/v1\/users\/[^/]+\/recommendations$/.test(path))
      checkRecs(json.items, { k: kOf(c.method === 'POST' ? b?.k : (q.get('k') ?? undefined)), has, what: 'items' });
    else if (/^\/v1\/items\/[^/]+\/similar$/.test(path)) checkRecs(json.items, { k: kOf(q.get('k') ?? undefined), has, what: 'items' });
    else if (path === '/v1/recommendations' && c.method === 'POST') {
      const list = checkRecs(json.items, { k: kOf(b?.k), has, what: 'items' });
      const known = Array.isArray(b?.items) && b.items.some((v: unknown) => (typeof v === 'string' || typeof v === 'number') && s.itemSet.has(String(v)));
      if (!known && list.length > 1 && list.every((x) => x.score === 0) && Object.keys(json).length === 1)
        wrong('fold-in with no known item answered 200 with an unflagged list of zero scores');
    } else if (path === '/v1/recommendations/batch' && c.method === 'POST') {
      if (!Array.isArray(json.results)) wrong('batch answer without results');
      for (const res of json.results) if (!res.error) checkRecs(res.items, { k: kOf(b?.k), has, what: 'results[].items' });
    }
  },
};
