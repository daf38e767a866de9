// Prometheus text exposition (format 0.0.4) of the server's counters, written by hand: request counts and
// latency histograms per route, model reloads, the served model, and process memory and event-loop delay.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

interface RouteStats {
  counts: number[];
  sum: number;
  n: number;
}

export class ServiceMetrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, RouteStats>();
  reloadsOk = 0;
  reloadsFailed = 0;
  lastReloadError?: string;
  private loop?: IntervalHistogram;
  private readonly started = Date.now();

  constructor(eventLoop = true) {
    if (eventLoop) {
      this.loop = monitorEventLoopDelay({ resolution: 10 });
      this.loop.enable();
    }
  }

  /** Counts a finished request; route is the route pattern (never the raw URL, so labels stay bounded). */
  observe(route: string, method: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    let s = this.latency.get(route);
    if (!s) {
      s = { counts: new Array<number>(BUCKETS.length).fill(0), sum: 0, n: 0 };
      this.latency.set(route, s);
    }
    let b = 0;
    while (b < BUCKETS.length && seconds > BUCKETS[b]!) b++;
    if (b < BUCKETS.length) s.counts[b]!++;
    s.sum += seconds;
    s.n++;
  }

  render(model: { class: string; checksum: string; users: number; items: number; loadedAt: number }): string {
    const out: string[] = [];
    out.push('# HELP recsys_http_requests_total HTTP requests by route, method and status.', '# TYPE recsys_http_requests_total counter');
    for (const [key, n] of this.requests) {
      const [method, route, status] = key.split(' ');
      out.push(`recsys_http_requests_total{method="${method}",route="${escapeLabel(route!)}",status="${status}"} ${n}`);
    }
    out.push('# HELP recsys_http_request_duration_seconds Time to answer a request.', '# TYPE recsys_http_request_duration_seconds histogram');
    for (const [route, s] of this.latency) {
      const r = escapeLabel(route);
      let cum = 0;
      BUCKETS.forEach((le, b) => {
        cum += s.counts[b]!;
        out.push(`recsys_http_request_duration_seconds_bucket{route="${r}",le="${le}"} ${cum}`);
      });
      out.push(`recsys_http_request_duration_seconds_bucket{route="${r}",le="+Inf"} ${s.n}`);
      out.push(`recsys_http_request_duration_seconds_sum{route="${r}"} ${s.sum}`);
      out.push(`recsys_http_request_duration_seconds_count{route="${r}"} ${s.n}`);
    }
    out.push('# HELP recsys_model_reloads_total Model reloads by result.', '# TYPE recsys_model_reloads_total counter');
    out.push(`recsys_model_reloads_total{result="ok"} ${this.reloadsOk}`, `recsys_model_reloads_total{result="error"} ${this.reloadsFailed}`);
    out.push('# HELP recsys_model_info The model being served.', '# TYPE recsys_model_info gauge');
    out.push(`recsys_model_info{class="${escapeLabel(model.class)}",checksum="${escapeLabel(model.checksum)}"} 1`);
    out.push('# HELP recsys_model_users Users the served model knows.', '# TYPE recsys_model_users gauge', `recsys_model_users ${model.users}`);
    out.push('# HELP recsys_model_items Items the served model knows.', '# TYPE recsys_model_items gauge', `recsys_model_items ${model.items}`);
    out.push('# HELP recsys_model_loaded_timestamp_seconds When the served model was loaded.', '# TYPE recsys_model_loaded_timestamp_seconds gauge');
    out.push(`recsys_model_loaded_timestamp_seconds ${(model.loadedAt / 1000).toFixed(3)}`);
    const mem = process.memoryUsage();
    out.push('# HELP process_resident_memory_bytes Resident memory.', '# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${mem.rss}`);
    out.push('# HELP nodejs_heap_used_bytes V8 heap in use.', '# TYPE nodejs_heap_used_bytes gauge', `nodejs_heap_used_bytes ${mem.heapUsed}`);
    out.push(
      '# HELP nodejs_external_memory_bytes Memory held outside the V8 heap (native models, buffers).',
      '# TYPE nodejs_external_memory_bytes gauge',
      `nodejs_external_memory_bytes ${mem.external}`,
    );
    out.push(
      '# HELP process_uptime_seconds Seconds since the service started.',
      '# TYPE process_uptime_seconds gauge',
      `process_uptime_seconds ${((Date.now() - this.started) / 1000).toFixed(3)}`,
    );
    if (this.loop) {
      out.push('# HELP nodejs_eventloop_delay_seconds Event-loop delay percentiles since start.', '# TYPE nodejs_eventloop_delay_seconds gauge');
      for (const q of [50, 99]) out.push(`nodejs_eventloop_delay_seconds{quantile="${q / 100}"} ${(this.loop.percentile(q) / 1e9).toFixed(6)}`);
    }
    return out.join('\n') + '\n';
  }

  close(): void {
    this.loop?.disable();
  }
}

/** One histogram family with a series per label set (e.g. `arm="B"`), rendered in the same text format. */
export class Histogram {
  private readonly series = new Map<string, RouteStats>();

  constructor(private readonly buckets: readonly number[] = BUCKETS) {}

  /** labels: the label pairs as they appear between the braces, e.g. `arm="A"` (values escaped by the caller). */
  observe(labels: string, value: number): void {
    let s = this.series.get(labels);
    if (!s) {
      s = { counts: new Array<number>(this.buckets.length).fill(0), sum: 0, n: 0 };
      this.series.set(labels, s);
    }
    let b = 0;
    while (b < this.buckets.length && value > this.buckets[b]!) b++;
    if (b < this.buckets.length) s.counts[b]!++;
    s.sum += value;
    s.n++;
  }

  /** Appends the family's lines (HELP, TYPE, then every series; a series appears after its first observation). */
  render(out: string[], name: string, help: string): void {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    for (const [labels, s] of this.series) {
      const sep = labels ? ',' : '';
      let cum = 0;
      this.buckets.forEach((le, b) => {
        cum += s.counts[b]!;
        out.push(`${name}_bucket{${labels}${sep}le="${le}"} ${cum}`);
      });
      out.push(`${name}_bucket{${labels}${sep}le="+Inf"} ${s.n}`);
      out.push(`${name}_sum${labels ? `{${labels}}` : ''} ${s.sum}`);
      out.push(`${name}_count${labels ? `{${labels}}` : ''} ${s.n}`);
    }
  }
}

/** Escapes a label value for the text format. */
export { escapeLabel };
