/**
 * The current values of some Prometheus series from a /metrics page, each summed over its label sets (a
 * gauge split by labels adds up to the whole). A name missing from the page is missing from the result.
 */
export async function scrapeGauges(url: string, names: readonly string[]): Promise<Record<string, number>> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  const wanted = new Set(names);
  const values: Record<string, number> = {};
  for (const line of (await response.text()).split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match === null || !wanted.has(match[1]!)) continue;
    const value = Number(match[2]);
    if (Number.isFinite(value)) values[match[1]!] = (values[match[1]!] ?? 0) + value;
  }
  return values;
}
