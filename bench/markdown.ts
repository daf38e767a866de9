// Markdown tables of the benchmark results, and the generated sections of BENCHMARKS.md: each benchmark replaces
// only its own section (between `<!-- NAME:begin -->` and `<!-- NAME:end -->`), so hand-written text stays.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AccuracyResult, DeepResult, KernelsResult, PeersResult, RunInfo, ScalingResult } from '../ts/report/results.js';
import { deepMetricText } from '../ts/report/html.js';
import { BENCH_DIR, fmt, mdTable } from './common.js';

export const BENCHMARKS_MD = join(BENCH_DIR, '..', 'BENCHMARKS.md');

export function infoLine(i: RunInfo): string {
  const load = i.loadavg ? `; load average ${i.loadavg.join(' / ')} at the start, ${i.loadavgAfter?.join(' / ') ?? '?'} at the end (1/5/15 min)` : '';
  return `_${i.date.slice(0, 16).replace('T', ' ')} UTC; ${i.machine.cpu}, ${i.machine.cores} cores, ${i.machine.memoryGB} GB, ${i.machine.os}; node ${i.node}; recsys ${i.recsys}, BLAS ${i.blas}; recsys threads: ${i.threads || 'all'}${load}._`;
}

const ratio = (a: number, b: number | undefined) => (b === undefined || !(b > 0) ? '—' : `${(a / b).toFixed(1)}×`);

export function kernelsMarkdown(r: KernelsResult): string {
  const n = r.rows[0]?.allThreads ?? 2;
  return [
    infoLine(r.info),
    '',
    mdTable(
      ['kernel', 'data', 'plain TS ms', 'native 1 thread ms', `native ${n} threads ms`, 'speed-up, 1 thread', `speed-up, ${n} threads`],
      r.rows.map((x) => [
        x.kernel,
        x.data,
        x.tsMs.toFixed(1),
        x.native1Ms.toFixed(2),
        x.nativeAllMs?.toFixed(2) ?? '— (single-threaded)',
        ratio(x.tsMs, x.native1Ms),
        ratio(x.tsMs, x.nativeAllMs),
      ]),
    ),
  ].join('\n');
}

export function accuracyMarkdown(r: AccuracyResult): string {
  const out = [infoLine(r.info), ''];
  for (const n of r.info.notes ?? []) out.push(`- ${n}`);
  out.push('- load: the 1-minute load average when the run of the model started (2 cores; above 2, other work shared them)');
  const datasets = [...new Set(r.rows.map((x) => x.dataset))];
  for (const d of datasets) {
    const rows = r.rows.filter((x) => x.dataset === d);
    out.push('', `### ${d}`);
    const rating = rows.filter((x) => x.protocol === 'kfold5' && !x.error);
    if (rating.length) {
      out.push('', 'Rating prediction, 5-fold (means over folds; times per fold):', '');
      out.push(
        mdTable(
          ['model', 'RMSE', 'MAE', 'fit s', 'predict s', 'peak RSS MB', 'load'],
          rating.map((x) => [
            x.model,
            fmt(x.metrics.rmse, 4),
            fmt(x.metrics.mae, 4),
            fmt(x.fitSeconds),
            fmt(x.predictSeconds),
            fmt(x.peakRssMB, 0),
            fmt(x.load, 1),
          ]),
        ),
      );
    }
    const top = rows.filter((x) => x.protocol === 'peruser80' && !x.error);
    if (top.length) {
      out.push('', `Top-10, per-user 80/20 (${top[0]!.metrics.users} test users; training items excluded):`, '');
      out.push(
        mdTable(
          ['model', 'P@10', 'R@10', 'NDCG@10', 'MAP@10', 'coverage@10', 'fit s', 'rank all users s', 'peak RSS MB', 'load'],
          top.map((x) => [
            x.model,
            fmt(x.metrics['precision@10'], 4),
            fmt(x.metrics['recall@10'], 4),
            fmt(x.metrics['ndcg@10'], 4),
            fmt(x.metrics['map@10'], 4),
            fmt(x.metrics['coverage@10'], 4),
            fmt(x.fitSeconds),
            fmt(x.predictSeconds),
            fmt(x.peakRssMB, 0),
            fmt(x.load, 1),
          ]),
        ),
      );
    }
    const loo = rows.filter((x) => x.protocol === 'loo' && !x.error);
    if (loo.length) {
      out.push('', `Leave-last-one-out, 99 sampled negatives (${loo[0]!.metrics.users} users):`, '');
      out.push(
        mdTable(
          ['model', 'HR@10', 'NDCG@10', 'fit s', 'rank s'],
          loo.map((x) => [x.model, fmt(x.metrics['hr@10'], 4), fmt(x.metrics['ndcg@10'], 4), fmt(x.fitSeconds), fmt(x.predictSeconds)]),
        ),
      );
    }
    const failed = rows.filter((x) => x.error);
    for (const f of failed) out.push('', `- ${f.model} failed: ${f.error}`);
  }
  return out.join('\n');
}

export function peersMarkdown(r: PeersResult): string {
  const out = [
    infoLine(r.info),
    '',
    `Peers: ${Object.entries(r.peerVersions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
  ];
  for (const n of r.info.notes ?? []) out.push(`- ${n}`);
  out.push('- load: the 1-minute load average when the pair started (2 cores; above 2, other work shared them)');
  for (const d of [...new Set(r.rows.map((x) => x.dataset))]) {
    const rows = r.rows.filter((x) => x.dataset === d);
    out.push('', `### ${d}`, '');
    const metricNames = [...new Set(rows.flatMap((x) => Object.keys(x.recsys.metrics)))].filter((m) => m !== 'users');
    out.push(
      mdTable(
        [
          'recsys model',
          'peer',
          'fit s recsys',
          'fit s peer',
          'fit time recsys / peer',
          'predict s recsys',
          'predict s peer',
          ...metricNames.map((m) => `${m} recsys (peer)`),
          'load',
        ],
        rows.map((x) => [
          x.recsys.model,
          `${x.peer.library} ${x.peer.model}`,
          fmt(x.recsys.fitSeconds),
          x.peer.error ? 'failed' : fmt(x.peer.fitSeconds),
          x.peer.error ? '—' : (x.recsys.fitSeconds / x.peer.fitSeconds).toFixed(2),
          fmt(x.recsys.predictSeconds),
          x.peer.error ? '—' : fmt(x.peer.predictSeconds),
          ...metricNames.map((m) => (x.recsys.metrics[m] === undefined ? '' : `${fmt(x.recsys.metrics[m], 4)} (${fmt(x.peer.metrics[m], 4)})`)),
          fmt(x.load, 1),
        ]),
      ),
    );
    for (const x of rows) if (x.note) out.push(`- ${x.recsys.model} vs ${x.peer.model}: ${x.note}`);
    for (const x of rows) if (x.peer.error) out.push(`- ${x.peer.library} ${x.peer.model} failed: ${x.peer.error}`);
  }
  return out.join('\n');
}

export function scalingMarkdown(r: ScalingResult): string {
  const out = [infoLine(r.info), ''];
  for (const n of r.info.notes ?? []) out.push(`- ${n}`);
  out.push('');
  out.push(
    mdTable(
      ['model', 'interactions', 'users x items', 'epochs', 'fit s', 's per epoch', 'peak RSS MB', 'load'],
      r.rows.map((x) => [
        x.model,
        x.interactions.toLocaleString('en-US'),
        `${x.users.toLocaleString('en-US')} x ${x.items.toLocaleString('en-US')}`,
        x.epochs ?? '—',
        x.error ? `failed: ${x.error}` : fmt(x.fitSeconds, 2),
        x.error || !x.epochs ? '—' : fmt(x.fitSeconds / x.epochs, 3),
        x.error ? '—' : fmt(x.peakRssMB, 0),
        fmt(x.load, 1),
      ]),
    ),
  );
  out.push('', 'Fitted exponent b of fit time ~ a · interactions^b (least squares on log-log; 1 = linear):', '');
  out.push(
    mdTable(
      ['model', 'b'],
      Object.entries(r.exponents).map(([m, b]) => [m, fmt(b, 2)]),
    ),
  );
  return out.join('\n');
}

/** Replaces (or appends) the generated section `name` of BENCHMARKS.md. */
export function updateBenchmarksMd(name: string, body: string, path = BENCHMARKS_MD): string {
  const begin = `<!-- ${name}:begin (generated by bench/${name}.ts; edits inside are overwritten) -->`;
  const end = `<!-- ${name}:end -->`;
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const re = new RegExp(`<!-- ${name}:begin[^>]*-->[\\s\\S]*?<!-- ${name}:end -->`);
  const block = `${begin}\n${body}\n${end}`;
  writeFileSync(path, re.test(text) ? text.replace(re, () => block) : `${text.trimEnd()}\n\n${block}\n`);
  return path;
}

export function deepMarkdown(r: DeepResult): string {
  const out = [infoLine(r.info), '', `Accuracy rows on TensorFlow.js's ${r.backend} backend.`, ''];
  out.push(
    mdTable(
      ['protocol', 'model', 'metrics', 'fit s', 'reference'],
      r.rows
        .filter((x) => x.protocol !== 'epoch-seconds')
        .map((x) => [x.protocol, x.model, deepMetricText(x.metrics), fmt(x.fitSeconds, 1), x.reference ?? '']),
    ),
  );
  const times = r.rows.filter((x) => x.protocol === 'epoch-seconds');
  if (times.length) {
    const backends = [...new Set(times.map((x) => x.backend ?? '?'))];
    const models = [...new Set(times.map((x) => x.model))];
    out.push('', 'Seconds per epoch (the second of two), by backend:', '');
    out.push(
      mdTable(
        ['model', ...backends],
        models.map((m) => [m, ...backends.map((b) => fmt(times.find((x) => x.model === m && x.backend === b)?.fitSeconds, 2))]),
      ),
    );
  }
  return out.join('\n');
}
