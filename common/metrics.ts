import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The metrics port. Only this file imports prom-client; each service instance owns its own registry. */
export class Metrics {
  readonly registry = new Registry();
  private counters = new Map<string, Counter>();
  private gauges = new Map<string, Gauge>();
  private histograms = new Map<string, Histogram>();

  constructor(opts: { defaults?: boolean } = {}) {
    if (opts.defaults !== false) collectDefaultMetrics({ register: this.registry, prefix: 'cabinet_fleet_' });
  }

  counter(name: string, help: string, labelNames: string[] = []): Counter {
    let c = this.counters.get(name);
    if (!c) {
      c = new Counter({ name, help, labelNames, registers: [this.registry] });
      this.counters.set(name, c);
    }
    return c;
  }

  gauge(name: string, help: string, labelNames: string[] = []): Gauge {
    let g = this.gauges.get(name);
    if (!g) {
      g = new Gauge({ name, help, labelNames, registers: [this.registry] });
      this.gauges.set(name, g);
    }
    return g;
  }

  /** A gauge read at scrape time. */
  gaugeFrom(name: string, help: string, read: () => number): Gauge {
    const g = new Gauge({ name, help, registers: [this.registry], collect() { this.set(read()); } });
    this.gauges.set(name, g);
    return g;
  }

  histogram(name: string, help: string, buckets: number[], labelNames: string[] = []): Histogram {
    let h = this.histograms.get(name);
    if (!h) {
      h = new Histogram({ name, help, buckets, labelNames, registers: [this.registry] });
      this.histograms.set(name, h);
    }
    return h;
  }

  contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }
}
