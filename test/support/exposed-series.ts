import { parsePrometheusText } from '../../bin/demo/prometheus-text.js';

/**
 * The series names a /metrics page exposes, each with the label names seen on its samples. A family
 * declared by `# TYPE` counts too, with the `_bucket`, `_sum` and `_count` series of a histogram (or summary).
 */
export function exposedSeries(...pages: readonly string[]): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  const add = (name: string, labels: Iterable<string> = []) => {
    const known = series.get(name) ?? new Set<string>();
    for (const label of labels) known.add(label);
    series.set(name, known);
  };
  for (const page of pages) {
    for (const match of page.matchAll(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/gm)) {
      const [, name, type] = match;
      add(name!);
      if (type === 'histogram' || type === 'summary') {
        for (const suffix of ['_sum', '_count', ...(type === 'histogram' ? ['_bucket'] : [])])
          add(name! + suffix);
      }
    }
    for (const sample of parsePrometheusText(page)) add(sample.name, Object.keys(sample.labels));
  }
  return series;
}
