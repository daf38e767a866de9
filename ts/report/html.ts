// The benchmark report: one self-contained HTML file (inline CSS and SVG, no scripts, nothing fetched) with a
// section per kind of result file: kernels (speed-up bars), accuracy (metric-vs-K curves, training loss per
// epoch, tables), scaling (time and memory against interactions) and peers (recsys vs peer bars).
import type { AccuracyResult, BenchResult, DeepResult, KernelsResult, PeersResult, RunInfo, ScalingResult } from './results.js';
import { barChart, escapeXml as esc, lineChart, type Series } from './svg.js';

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1240px;padding:0 16px;color:#222}
h1{font-size:24px}h2{font-size:20px;margin-top:36px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:16px;margin-top:24px}
.info{color:#555;font-size:12px}.charts{display:flex;flex-wrap:wrap;gap:12px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:12.5px}th,td{border:1px solid #ddd;padding:3px 7px;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f4f4f4}
svg.chart{background:#fff;border:1px solid #e4e4e4}
svg .title{font-size:13px;font-weight:600}svg .tick,svg .value{font-size:10px;fill:#444}svg .label{font-size:11px;fill:#333}
svg .legend{font-size:10.5px;fill:#333}svg .grid{stroke:#eee}svg .axis{stroke:#888}svg .ref{stroke:#000;stroke-dasharray:4 3}
svg .note{font-size:12px;fill:#999}
`;

const f = (x: number | undefined, d = 3) => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));

function infoHtml(i: RunInfo, source: string): string {
  const load = i.loadavg ? `; load average ${i.loadavg.join(' / ')} → ${i.loadavgAfter?.join(' / ') ?? '?'}` : '';
  const notes = (i.notes ?? []).map((n) => `<br>${esc(n)}`).join('');
  return `<p class="info">${esc(source)}: ${esc(i.date)}; ${esc(i.machine.cpu)}, ${i.machine.cores} cores, ${i.machine.memoryGB} GB; node ${esc(i.node)}; recsys ${esc(i.recsys)}, BLAS ${esc(i.blas)}; threads ${i.threads || 'all'}${esc(load)}${notes}</p>`;
}

function tableHtml(header: string[], rows: (string | number)[][]): string {
  return `<table><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`).join('')}</table>`;
}

function kernelsHtml(r: KernelsResult, source: string): string {
  const n = r.rows[0]?.allThreads ?? 2;
  return [
    '<h2>Native kernels vs plain TypeScript</h2>',
    infoHtml(r.info, source),
    `<div class="charts">${barChart({
      title: 'Speed-up of the native kernel over plain TS (higher is better)',
      categories: r.rows.map((x) => x.kernel),
      series: [
        { name: 'native, 1 thread', values: r.rows.map((x) => x.tsMs / x.native1Ms) },
        { name: `native, ${n} threads`, values: r.rows.map((x) => (x.nativeAllMs ? x.tsMs / x.nativeAllMs : undefined)) },
      ],
      xLabel: 'plain TS time / native time (log scale)',
      logX: true,
      reference: 1,
      width: 820,
    })}</div>`,
    tableHtml(
      ['kernel', 'data', 'plain TS ms', 'native 1T ms', `native ${n}T ms`, 'speed-up 1T', `speed-up ${n}T`],
      r.rows.map((x) => [
        x.kernel,
        x.data,
        f(x.tsMs, 1),
        f(x.native1Ms, 2),
        f(x.nativeAllMs, 2),
        `${f(x.tsMs / x.native1Ms, 1)}×`,
        x.nativeAllMs ? `${f(x.tsMs / x.nativeAllMs, 1)}×` : '—',
      ]),
    ),
  ].join('\n');
}

const CURVE_NAMES: Record<string, string> = { precision: 'Precision@K', recall: 'Recall@K', ndcg: 'NDCG@K', map: 'MAP@K', coverage: 'Coverage@K' };

function accuracyHtml(r: AccuracyResult, source: string): string {
  const out = ['<h2>Accuracy and speed by dataset</h2>', infoHtml(r.info, source)];
  for (const d of [...new Set(r.rows.map((x) => x.dataset))]) {
    const rows = r.rows.filter((x) => x.dataset === d && !x.error);
    out.push(`<h3>${esc(d)}</h3>`);
    const top = rows.filter((x) => x.protocol === 'peruser80' && x.curves);
    if (top.length) {
      const charts = Object.keys(CURVE_NAMES)
        .filter((m) => top.some((x) => x.curves![m]))
        .map((m) =>
          lineChart({
            title: `${d}: ${CURVE_NAMES[m]} (per-user 80/20)`,
            xLabel: 'K (log scale)',
            yLabel: CURVE_NAMES[m]!.replace('@K', ''),
            logX: true,
            series: top.map((x) => ({ name: x.model, points: x.curves![m] ?? [] })),
            width: 400,
            height: 290,
          }),
        );
      out.push(`<div class="charts">${charts.join('')}</div>`);
    }
    const withLoss = rows.filter((x) => x.loss && x.loss.length > 1);
    const seen = new Set<string>();
    const lossCharts = withLoss
      .filter((x) => !seen.has(x.model) && seen.add(x.model))
      .map((x) =>
        lineChart({
          title: `${x.model}: training loss`,
          xLabel: 'epoch',
          yLabel: 'loss',
          series: [{ name: `${x.model} (${x.protocol === 'kfold5' ? 'fold 1' : '80% train'})`, points: x.loss!.map((v, e) => [e + 1, v]) }],
          width: 300,
          height: 210,
          markers: x.loss!.length <= 30,
        }),
      );
    if (lossCharts.length)
      out.push(`<p>Training loss per epoch, as the fits report it through onProgress:</p><div class="charts">${lossCharts.join('')}</div>`);
    const rating = rows.filter((x) => x.protocol === 'kfold5');
    if (rating.length) {
      out.push(
        `<div class="charts">${barChart({
          title: `${d}: RMSE, 5-fold (lower is better)`,
          categories: rating.map((x) => x.model),
          series: [
            { name: 'RMSE', values: rating.map((x) => x.metrics.rmse) },
            { name: 'MAE', values: rating.map((x) => x.metrics.mae) },
          ],
          xLabel: 'error',
          width: 560,
        })}</div>`,
      );
      out.push(
        tableHtml(
          ['model', 'RMSE', 'MAE', 'fit s', 'predict s', 'peak RSS MB'],
          rating.map((x) => [x.model, f(x.metrics.rmse, 4), f(x.metrics.mae, 4), f(x.fitSeconds), f(x.predictSeconds), f(x.peakRssMB, 0)]),
        ),
      );
    }
    if (top.length) {
      out.push(
        tableHtml(
          ['model (per-user 80/20)', 'P@10', 'R@10', 'NDCG@10', 'MAP@10', 'coverage@10', 'fit s', 'rank s', 'peak RSS MB'],
          top.map((x) => [
            x.model,
            f(x.metrics['precision@10'], 4),
            f(x.metrics['recall@10'], 4),
            f(x.metrics['ndcg@10'], 4),
            f(x.metrics['map@10'], 4),
            f(x.metrics['coverage@10'], 4),
            f(x.fitSeconds),
            f(x.predictSeconds),
            f(x.peakRssMB, 0),
          ]),
        ),
      );
    }
    const loo = rows.filter((x) => x.protocol === 'loo');
    if (loo.length)
      out.push(
        tableHtml(
          ['model (leave-last-one-out, 99 negatives)', 'HR@10', 'NDCG@10', 'fit s', 'rank s'],
          loo.map((x) => [x.model, f(x.metrics['hr@10'], 4), f(x.metrics['ndcg@10'], 4), f(x.fitSeconds), f(x.predictSeconds)]),
        ),
      );
    const fits = rows.filter((x) => x.protocol !== 'loo');
    if (fits.length) {
      out.push(
        `<div class="charts">${barChart({ title: `${d}: fit time`, categories: fits.map((x) => `${x.model} (${x.protocol})`), series: [{ name: 'fit seconds', values: fits.map((x) => x.fitSeconds) }], xLabel: 'seconds (log scale)', logX: true, width: 560 })}${barChart({ title: `${d}: peak RSS of the process`, categories: fits.map((x) => `${x.model} (${x.protocol})`), series: [{ name: 'MB', values: fits.map((x) => x.peakRssMB) }], xLabel: 'MB', width: 560 })}</div>`,
      );
    }
  }
  const failed = r.rows.filter((x) => x.error);
  if (failed.length) out.push(`<p>Failed: ${failed.map((x) => esc(`${x.dataset} ${x.model}: ${x.error}`)).join('<br>')}</p>`);
  return out.join('\n');
}

function scalingHtml(r: ScalingResult, source: string): string {
  const models = [...new Set(r.rows.map((x) => x.model))];
  const series = (key: 'fitSeconds' | 'peakRssMB'): Series[] =>
    models.map((m) => ({
      name: `${m}${key === 'fitSeconds' && Number.isFinite(r.exponents[m]) ? ` (b = ${r.exponents[m]!.toFixed(2)})` : ''}`,
      points: r.rows.filter((x) => x.model === m && !x.error).map((x) => [x.interactions, x[key]] as [number, number]),
    }));
  return [
    '<h2>Scaling with data size</h2>',
    infoHtml(r.info, source),
    `<div class="charts">${lineChart({ title: 'Fit time vs interactions (log-log)', xLabel: 'interactions', yLabel: 'fit seconds', series: series('fitSeconds'), logX: true, logY: true })}${lineChart({ title: 'Peak RSS vs interactions (log-log)', xLabel: 'interactions', yLabel: 'MB', series: series('peakRssMB'), logX: true, logY: true })}</div>`,
    tableHtml(
      ['model', 'interactions', 'epochs', 'fit s', 'peak RSS MB', 'note'],
      r.rows.map((x) => [x.model, x.interactions.toLocaleString('en-US'), x.epochs ?? '—', f(x.fitSeconds, 2), f(x.peakRssMB, 0), x.error ?? '']),
    ),
    `<p>Exponent b of fit time ~ a · interactions<sup>b</sup>: ${Object.entries(r.exponents)
      .map(([m, b]) => `${esc(m)} ${f(b, 2)}`)
      .join(', ')}.</p>`,
  ].join('\n');
}

function peersHtml(r: PeersResult, source: string): string {
  const out = [
    '<h2>recsys vs peers (same split files)</h2>',
    infoHtml(r.info, source),
    `<p class="info">${Object.entries(r.peerVersions)
      .map(([k, v]) => esc(`${k} ${v}`))
      .join(', ')}</p>`,
  ];
  for (const d of [...new Set(r.rows.map((x) => x.dataset))]) {
    const rows = r.rows.filter((x) => x.dataset === d);
    const cats = rows.map((x) => `${x.recsys.model} | ${x.peer.library} ${x.peer.model}`);
    out.push(`<h3>${esc(d)}</h3>`);
    const charts = [
      barChart({
        title: `${d}: fit time`,
        categories: cats,
        series: [
          { name: 'recsys', values: rows.map((x) => x.recsys.fitSeconds) },
          { name: 'peer', values: rows.map((x) => x.peer.fitSeconds) },
        ],
        xLabel: 'seconds (log scale)',
        logX: true,
        width: 600,
      }),
      barChart({
        title: `${d}: fit time recsys / peer (below 1: recsys faster)`,
        categories: cats,
        series: [{ name: 'ratio', values: rows.map((x) => x.recsys.fitSeconds / x.peer.fitSeconds) }],
        xLabel: 'ratio (log scale)',
        logX: true,
        reference: 1,
        width: 600,
      }),
    ];
    const rating = rows.filter((x) => x.task === 'rating');
    if (rating.length)
      charts.push(
        barChart({
          title: `${d}: RMSE (lower is better)`,
          categories: rating.map((x) => `${x.recsys.model} | ${x.peer.model}`),
          series: [
            { name: 'recsys', values: rating.map((x) => x.recsys.metrics.rmse) },
            { name: 'peer', values: rating.map((x) => x.peer.metrics.rmse) },
          ],
          xLabel: 'RMSE',
          width: 600,
        }),
      );
    const ranking = rows.filter((x) => x.task === 'ranking');
    if (ranking.length)
      charts.push(
        barChart({
          title: `${d}: NDCG@10 (higher is better)`,
          categories: ranking.map((x) => `${x.recsys.model} | ${x.peer.library} ${x.peer.model}`),
          series: [
            { name: 'recsys', values: ranking.map((x) => x.recsys.metrics['ndcg@10']) },
            { name: 'peer', values: ranking.map((x) => x.peer.metrics['ndcg@10']) },
          ],
          xLabel: 'NDCG@10',
          width: 600,
        }),
      );
    out.push(`<div class="charts">${charts.join('')}</div>`);
    const names = [...new Set(rows.flatMap((x) => Object.keys(x.recsys.metrics)))];
    out.push(
      tableHtml(
        ['recsys', 'peer', 'fit s recsys', 'fit s peer', 'ratio', 'predict s recsys', 'predict s peer', ...names.map((n) => `${n} recsys / peer`)],
        rows.map((x) => [
          x.recsys.model,
          `${x.peer.library} ${x.peer.model}`,
          f(x.recsys.fitSeconds),
          x.peer.error ? 'failed' : f(x.peer.fitSeconds),
          f(x.recsys.fitSeconds / x.peer.fitSeconds, 2),
          f(x.recsys.predictSeconds),
          f(x.peer.predictSeconds),
          ...names.map((n) => (x.recsys.metrics[n] === undefined ? '' : `${f(x.recsys.metrics[n], 4)} / ${f(x.peer.metrics[n], 4)}`)),
        ]),
      ),
    );
  }
  return out.join('\n');
}

/** The metrics a deep-model row reports, in a stable order. */
export function deepMetricText(m: Record<string, number>): string {
  return Object.entries(m)
    .map(([k, v]) => `${k} ${v.toFixed(k.includes('seconds') ? 2 : 4)}`)
    .join(', ');
}

function deepHtml(r: DeepResult, source: string): string {
  const times = r.rows.filter((x) => x.protocol === 'epoch-seconds');
  const models = [...new Set(times.map((x) => x.model))];
  const backends = [...new Set(times.map((x) => x.backend ?? '?'))];
  const out = ['<h2>Deep models (TensorFlow.js)</h2>', infoHtml(r.info, source), `<p class="info">Accuracy rows on the ${esc(r.backend)} backend.</p>`];
  out.push(
    tableHtml(
      ['protocol', 'model', 'metrics', 'fit s', 'reference'],
      r.rows.filter((x) => x.protocol !== 'epoch-seconds').map((x) => [x.protocol, x.model, deepMetricText(x.metrics), f(x.fitSeconds, 1), x.reference ?? '']),
    ),
  );
  if (times.length)
    out.push(
      barChart({
        title: 'Seconds per epoch by backend (log scale)',
        categories: models,
        series: backends.map((b) => ({ name: b, values: models.map((m) => times.find((x) => x.model === m && x.backend === b)?.fitSeconds ?? NaN) })),
        xLabel: 'seconds per epoch',
        logX: true,
        width: 600,
      }),
    );
  return out.join('\n');
}

/** Renders result files (already parsed) into one HTML page; `sources` names them (e.g. file names). */
export function renderReport(results: BenchResult[], sources: string[], title = 'recsys benchmark report'): string {
  const order = ['kernels', 'accuracy', 'scaling', 'peers', 'deep'];
  const sections = results
    .map((r, i) => ({ r, source: sources[i] ?? `input ${i + 1}` }))
    .sort((a, b) => order.indexOf(a.r.kind) - order.indexOf(b.r.kind))
    .map(({ r, source }) => {
      switch (r.kind) {
        case 'kernels':
          return kernelsHtml(r, source);
        case 'accuracy':
          return accuracyHtml(r, source);
        case 'scaling':
          return scalingHtml(r, source);
        case 'peers':
          return peersHtml(r, source);
        case 'deep':
          return deepHtml(r, source);
      }
    });
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><h1>${esc(title)}</h1>
<p class="info">Generated ${esc(new Date().toISOString())} from ${sources.map(esc).join(', ')}. Self-contained: no scripts, nothing loaded from the network.</p>
${sections.join('\n')}
</body></html>
`;
}
