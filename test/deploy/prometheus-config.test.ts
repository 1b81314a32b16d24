import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { scrapeExercisedMetrics } from '../support/exercised-metrics.js';
import { exposedSeries } from '../support/exposed-series.js';
import { runPromtool } from '../support/prometheus-tools.js';
import { exportedSelectors, type PromqlSelector } from '../support/promql-selectors.js';

const PROMETHEUS_DIR = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));
const RULES = 'rules/voxelfeed.rules.yml';
const DASHBOARD = fileURLToPath(new URL('../../deploy/grafana/voxelfeed-dashboard.json', import.meta.url));
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JavaScript template.
const DATASOURCE_UID = '${datasource}';
/** Labels a series gets from its scrape target in deploy/prometheus/ rather than from the program. */
const TARGET_LABELS = ['job', 'instance', 'component', 'namespace', 'pod', 'node'];

function output(result: { stdout: string; stderr: string }): string {
  return `${result.stdout}${result.stderr}`;
}

async function promtoolPasses(args: string[], cwd: string): Promise<string> {
  const result = await runPromtool(args, { cwd });
  const text = output(result);
  assert.equal(result.code, 0, `promtool ${args.join(' ')} failed:\n${text}`);
  assert.doesNotMatch(text, /WARNING/i, `promtool ${args.join(' ')} warned:\n${text}`);
  return text;
}

describe('the Prometheus configuration in deploy/prometheus', () => {
  let scratch: string;

  before(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-prometheus-config-'));
  });

  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('with static targets passes promtool check config, and finds its rules file', async () => {
    const text = await promtoolPasses(['check', 'config', 'prometheus.yml'], PROMETHEUS_DIR);
    assert.match(text, /SUCCESS: 1 rule files found/);
    assert.match(text, /SUCCESS: \d+ rules found/);
  });

  it('with Kubernetes pod discovery passes promtool check config', async (t) => {
    const original = await readFile(path.join(PROMETHEUS_DIR, 'prometheus-kubernetes.yml'), 'utf8');
    const full = await runPromtool(['check', 'config', 'prometheus-kubernetes.yml'], { cwd: PROMETHEUS_DIR });
    if (!/field kubernetes_sd_configs not found/.test(output(full))) {
      assert.equal(full.code, 0, output(full));
      assert.doesNotMatch(output(full), /WARNING/i);
      return;
    }
    // Debian builds Prometheus without Kubernetes discovery: check everything else (globals, rule files,
    // relabelling) with the discovery blocks swapped for empty static ones, and that pods are what is discovered.
    t.diagnostic(
      'this promtool lacks Kubernetes discovery (Debian build); the kubernetes_sd_configs blocks are unchecked',
    );
    const blocks = [...original.matchAll(/^( +)kubernetes_sd_configs:\n(?:\1 .*\n|\s*\n)*/gm)];
    assert.equal(blocks.length, 2, 'one discovery block per scrape job');
    for (const block of blocks) assert.match(block[0], /- role: pod\n/);
    const swapped = original.replace(
      /^( +)kubernetes_sd_configs:\n(?:\1 .*\n|\s*\n)*/gm,
      '$1static_configs: []\n',
    );
    await writeFile(path.join(scratch, 'prometheus-kubernetes.yml'), swapped);
    await cp(path.join(PROMETHEUS_DIR, 'rules'), path.join(scratch, 'rules'), { recursive: true });
    const text = await promtoolPasses(['check', 'config', 'prometheus-kubernetes.yml'], scratch);
    assert.match(text, /SUCCESS: 1 rule files found/);
  });

  it('has rules that pass promtool check rules without warnings', async () => {
    const text = await promtoolPasses(['check', 'rules', RULES], PROMETHEUS_DIR);
    assert.match(text, /SUCCESS: \d+ rules found/);
  });

  it('has alerts that fire on unhealthy series and stay quiet on healthy ones (promtool test rules)', async () => {
    const text = await promtoolPasses(['test', 'rules', 'rules/voxelfeed.rules.test.yml'], PROMETHEUS_DIR);
    assert.match(text, /SUCCESS/);
  });
});

interface DashboardTarget {
  readonly expr?: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  readonly format?: string;
}

interface DashboardPanel {
  readonly type: string;
  readonly title: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  readonly targets?: readonly DashboardTarget[];
  readonly panels?: readonly DashboardPanel[];
}

interface Dashboard {
  readonly schemaVersion: number;
  readonly panels: readonly DashboardPanel[];
  readonly templating: {
    readonly list: readonly {
      readonly name: string;
      readonly type: string;
      readonly query?: string | { readonly query?: string };
      readonly datasource?: { readonly uid?: string };
    }[];
  };
}

/** The `expr:` values of a rules file: plain one-liners, or `|` blocks indented under the key. */
function ruleExpressions(yaml: string): string[] {
  return [...yaml.matchAll(/^( *)(?:- )?expr: (?:\|\n((?:\1 {2,}.*\n|\s*\n)*)|(.+)\n)/gm)].map(
    (match) => match[2] ?? match[3] ?? '',
  );
}

/** Every panel, with those inside collapsed rows. */
function allPanels(panels: readonly DashboardPanel[]): DashboardPanel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

describe('the Grafana dashboard and the rules', () => {
  let dashboard: Dashboard;
  let rulesText: string;
  /** Series the real server and trainer expose, with their label names. */
  let exported: Map<string, Set<string>>;

  before(async () => {
    dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;
    rulesText = await readFile(path.join(PROMETHEUS_DIR, RULES), 'utf8');
    const pages = await scrapeExercisedMetrics();
    exported = exposedSeries(pages.server, pages.trainer);
  });

  function unknownSelectors(selectors: readonly PromqlSelector[], recorded: ReadonlySet<string>): string[] {
    const problems: string[] = [];
    for (const { name, labels } of selectors) {
      if (name.includes(':')) {
        if (!recorded.has(name)) problems.push(`${name} is recorded by no rule`);
        continue;
      }
      const known = exported.get(name);
      if (known === undefined) {
        problems.push(`${name} is exported by neither the server nor the trainer`);
        continue;
      }
      for (const label of labels) {
        if (!known.has(label) && !TARGET_LABELS.includes(label))
          problems.push(`${name} has no label ${label}`);
      }
    }
    return problems;
  }

  it('parses, is of schema 39 or later, and reads every panel and query through the datasource variable', () => {
    assert.ok(dashboard.schemaVersion >= 39, `schemaVersion ${dashboard.schemaVersion}`);
    const variable = dashboard.templating.list.find((entry) => entry.name === 'datasource');
    assert.deepEqual(
      { type: variable?.type, query: variable?.query },
      { type: 'datasource', query: 'prometheus' },
      'a datasource variable limited to Prometheus data sources',
    );
    const panels = allPanels(dashboard.panels);
    assert.ok(panels.length >= 8, `${panels.length} panels`);
    for (const panel of panels) {
      assert.equal(panel.datasource?.uid, DATASOURCE_UID, `panel "${panel.title}"`);
      assert.equal(panel.datasource?.type, 'prometheus', `panel "${panel.title}"`);
      assert.ok((panel.targets ?? []).length > 0, `panel "${panel.title}" has queries`);
      for (const target of panel.targets ?? []) {
        assert.equal(target.datasource?.uid, DATASOURCE_UID, `a query of panel "${panel.title}"`);
      }
    }
    for (const entry of dashboard.templating.list.filter((item) => item.type === 'query')) {
      assert.equal(entry.datasource?.uid, DATASOURCE_UID, `variable ${entry.name}`);
    }
  });

  it('queries only metrics and labels that the server or the trainer exports', () => {
    const expressions = [
      ...allPanels(dashboard.panels).flatMap((panel) =>
        (panel.targets ?? []).map((target) => target.expr ?? ''),
      ),
      ...dashboard.templating.list.map((entry) =>
        typeof entry.query === 'string' ? entry.query : (entry.query?.query ?? ''),
      ),
    ];
    const selectors = expressions.flatMap(exportedSelectors);
    assert.deepEqual(unknownSelectors(selectors, new Set()), []);
    // What the dashboard is for: each of these appears in some query.
    const used = new Set(selectors.map((selector) => selector.name));
    for (const name of [
      'voxelfeed_loader_stage_seconds_bucket',
      'voxelfeed_trainer_gpu_idle_seconds_total',
      'voxelfeed_cache_requests_total',
      'voxelfeed_samples_sent_total',
      'voxelfeed_sent_bytes_total',
      'voxelfeed_open_streams',
      'grpc_server_handled_total',
    ]) {
      assert.ok(used.has(name), `no panel queries ${name}`);
    }
  });

  it('draws the loader latency as a heatmap of the histogram buckets by stage', () => {
    const heatmaps = allPanels(dashboard.panels).filter((panel) => panel.type === 'heatmap');
    const loader = heatmaps.filter((panel) =>
      (panel.targets ?? []).some(
        (target) =>
          target.format === 'heatmap' &&
          /voxelfeed_loader_stage_seconds_bucket\{[^}]*stage=/.test(target.expr ?? '') &&
          /by \(le\)/.test(target.expr ?? ''),
      ),
    );
    assert.equal(loader.length, 1, 'one heatmap, repeated per stage');
  });

  it('has rules that use only exported metrics and labels, and series recorded in the same file', () => {
    const recorded = new Set([...rulesText.matchAll(/^\s*- record: (\S+)$/gm)].map((match) => match[1]!));
    assert.ok(recorded.size >= 3, `${recorded.size} recording rules`);
    const expressions = ruleExpressions(rulesText);
    assert.ok(expressions.length >= recorded.size + 4, `${expressions.length} rule expressions found`);
    const selectors = expressions.flatMap(exportedSelectors);
    assert.deepEqual(unknownSelectors(selectors, recorded), []);
  });
});

describe('exportedSelectors', () => {
  it('finds the metric names and matcher labels of an expression, not label values or functions', () => {
    assert.deepEqual(
      exportedSelectors(
        'sum by (le) (rate(voxelfeed_a_bucket{stage="voxelfeed_b", instance=~"$i"}[5m])) / x:voxelfeed_c:rate5m' +
          ' + sum(grpc_server_handled_total{grpc_code!="OK"}) + other_grpc_server_x',
      ),
      [
        { name: 'voxelfeed_a_bucket', labels: ['stage', 'instance'] },
        { name: 'x:voxelfeed_c:rate5m', labels: [] },
        { name: 'grpc_server_handled_total', labels: ['grpc_code'] },
      ],
    );
  });
});
