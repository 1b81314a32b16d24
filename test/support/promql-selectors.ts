export interface PromqlSelector {
  /** The metric name, e.g. `voxelfeed_cache_requests_total` or a recorded `instance:voxelfeed_x:rate5m`. */
  readonly name: string;
  /** The label names of its matchers, e.g. `outcome` for `{outcome="hit"}`. */
  readonly labels: readonly string[];
}

/**
 * The series of ours a PromQL expression (or any text holding expressions) selects: every identifier that
 * contains `voxelfeed_` or starts with `grpc_server_` (the standard gRPC server series), with the label names
 * of the `{...}` matchers right after it. A lexical scan, enough to
 * check names against what the programs export; string literals are blanked first so label values such as
 * "voxelfeed-server" or "$stage" are not mistaken for names.
 */
export function exportedSelectors(expr: string): PromqlSelector[] {
  const blanked = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  const selectors: PromqlSelector[] = [];
  for (const match of blanked.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*(\{[^}]*\})?/g)) {
    const name = match[1]!;
    if (!name.includes('voxelfeed_') && !name.startsWith('grpc_server_')) continue;
    const labels = [...(match[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map(
      (label) => label[1]!,
    );
    selectors.push({ name, labels });
  }
  return selectors;
}
