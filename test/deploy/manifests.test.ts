import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { freeLoopbackPort } from '../../common/free-loopback-port.js';
import { parseServeConfig, SERVE_HELP, type ServeConfig } from '../../server/config/serve-config.js';
import { parseTrainConfig, TRAIN_HELP, type TrainConfig } from '../../trainer/config/train-config.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { createTestCertificates, type TestCertificates } from '../support/test-certificates.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import {
  DEPLOY_DIR,
  dockerfileInstructions,
  flagsIn,
  kubernetesManifests,
  type Manifest,
  memoryBytes,
  parseYamlFile,
  REPO_ROOT,
  variablesReadBy,
} from './deploy-files.js';

const run = promisify(execFile);
const HEALTH_CHECK = path.join(DEPLOY_DIR, 'docker', 'grpc-health-check.mjs');
const PROGRAM_SOURCES = [
  'server/config/serve-config.ts',
  'trainer/config/train-config.ts',
  'server/synth/default-dataset.ts',
  // Its VOXELFEED_HEALTH_* variables (TLS for the check) may be set in a server container too.
  'deploy/docker/grpc-health-check.mjs',
];

interface EnvVar {
  name: string;
  value?: string;
}
interface Probe {
  grpc?: { port: number | string; service?: string };
}
interface Container {
  name: string;
  args?: string[];
  env?: EnvVar[];
  ports?: Array<{ name?: string; containerPort: number }>;
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}
interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: { containers: Container[]; terminationGracePeriodSeconds?: number };
}
interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  stop_grace_period?: string;
}

function envOf(env: readonly EnvVar[] | Record<string, string> | undefined): NodeJS.ProcessEnv {
  if (env === undefined) return {};
  if (isEnvList(env)) return Object.fromEntries(env.map(({ name, value }) => [name, value ?? '']));
  return { ...env };
}

function isEnvList(env: readonly EnvVar[] | Record<string, string>): env is readonly EnvVar[] {
  return Array.isArray(env);
}

/** The server's config from a container's arguments (the first one is the `serve` command). */
function serveConfigOf(args: readonly string[], env: NodeJS.ProcessEnv): ServeConfig {
  assert.equal(args[0], 'serve', `server arguments start with the command serve: ${args.join(' ')}`);
  const config = parseServeConfig(args.slice(1), env);
  assert.notEqual(config, 'help');
  return config as ServeConfig;
}

function trainConfigOf(args: readonly string[], env: NodeJS.ProcessEnv): TrainConfig {
  const config = parseTrainConfig(args, env);
  assert.notEqual(config, 'help');
  return config as TrainConfig;
}

function assertFlagsDocumented(args: readonly string[], help: string, where: string): void {
  for (const flag of flagsIn(args)) {
    assert.ok(new RegExp(`(^|\\s)${flag}(\\s|$)`, 'm').test(help), `${where}: ${flag} is not in --help`);
  }
}

function portNamed(container: Container, name: string): number | undefined {
  return container.ports?.find((port) => port.name === name)?.containerPort;
}

function kindNamed(manifests: Array<{ manifest: Manifest }>, kind: string, name: string): Manifest {
  const found = manifests.find(
    ({ manifest }) => manifest['kind'] === kind && (manifest['metadata'] as { name?: string })?.name === name,
  );
  assert.ok(found, `deploy/k8s has a ${kind} named ${name}`);
  return found.manifest;
}

function commandWorks(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

describe('the Kubernetes manifests in deploy/k8s', () => {
  let manifests: Array<{ file: string; manifest: Manifest }>;
  let server: PodTemplate;
  let serverContainer: Container;
  let serverConfig: ServeConfig;
  let job: {
    spec: { completionMode: string; completions: number; parallelism: number; template: PodTemplate };
  };
  let trainer: Container;
  let serverReplicas: number;
  let known: Set<string>;

  before(async () => {
    manifests = await kubernetesManifests();
    const deployment = kindNamed(manifests, 'Deployment', 'voxelfeed-server') as {
      spec: { replicas: number; template: PodTemplate };
    };
    serverReplicas = deployment.spec.replicas;
    server = deployment.spec.template;
    const [first] = server.spec.containers;
    assert.ok(first);
    serverContainer = first;
    serverConfig = serveConfigOf(serverContainer.args ?? [], envOf(serverContainer.env));
    job = kindNamed(manifests, 'Job', 'voxelfeed-trainer') as typeof job;
    const [trainerContainer] = job.spec.template.spec.containers;
    assert.ok(trainerContainer);
    trainer = trainerContainer;
    known = await variablesReadBy(PROGRAM_SOURCES);
  });

  it('render with kubectl kustomize', {
    skip: commandWorks('kubectl', ['version', '--client']) ? false : 'kubectl is not installed',
  }, async () => {
    const { stdout } = await run('kubectl', ['kustomize', path.join(DEPLOY_DIR, 'k8s')]);
    const kinds = new Set(parseAllDocuments(stdout).map((doc) => (doc.toJS() as Manifest)['kind']));
    for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'PodMonitor', 'Job']) {
      assert.ok(kinds.has(kind), `the rendered output has a ${kind}`);
    }
  });

  it('give the server containers the ports its arguments configure', () => {
    assert.equal(portNamed(serverContainer, 'grpc'), serverConfig.port);
    assert.equal(portNamed(serverContainer, 'metrics'), serverConfig.metricsPort);
    assert.deepEqual([serverConfig.port, serverConfig.metricsPort], [50051, 9464]);
  });

  it('probe the server over gRPC health on its gRPC port, for a service the health service answers', () => {
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
      const grpc = serverContainer[probe]?.grpc;
      assert.ok(grpc, `${probe} is a gRPC probe`);
      assert.equal(grpc.port, serverConfig.port, `${probe} port`);
      assert.ok(['', 'voxelfeed.v1.VoxelFeed'].includes(grpc.service ?? ''), `${probe} service`);
    }
  });

  it('size the server memory above its --cache-bytes and give it longer than its shutdown grace', () => {
    const limit = memoryBytes(serverContainer.resources?.limits?.['memory'] ?? '0');
    const request = memoryBytes(serverContainer.resources?.requests?.['memory'] ?? '0');
    assert.ok(
      limit > serverConfig.cacheMaxBytes,
      `memory limit ${limit} > cache ${serverConfig.cacheMaxBytes}`,
    );
    assert.ok(request > serverConfig.cacheMaxBytes, `memory request ${request} > cache`);
    const grace = server.spec.terminationGracePeriodSeconds ?? 30;
    assert.ok(grace * 1000 > serverConfig.shutdownGraceMs, `${grace} s > ${serverConfig.shutdownGraceMs} ms`);
  });

  it('pass only flags that --help documents and variables that the programs read', () => {
    assertFlagsDocumented(serverContainer.args ?? [], SERVE_HELP, 'server');
    assertFlagsDocumented(trainer.args ?? [], TRAIN_HELP, 'trainer');
    for (const container of [serverContainer, trainer]) {
      for (const { name } of container.env ?? []) assert.ok(known.has(name), `${container.name}: ${name}`);
    }
  });

  it('expose the server through a headless service with the container ports by name', () => {
    const service = kindNamed(manifests, 'Service', 'voxelfeed-server') as {
      spec: {
        clusterIP: string;
        selector: Record<string, string>;
        ports: Array<{ name: string; port: number; targetPort: string }>;
      };
    };
    assert.equal(service.spec.clusterIP, 'None');
    assert.deepEqual(service.spec.selector, { 'app.kubernetes.io/name': 'voxelfeed-server' });
    for (const [key, value] of Object.entries(service.spec.selector)) {
      assert.equal(server.metadata.labels[key], value);
    }
    const byName = Object.fromEntries(service.spec.ports.map((port) => [port.name, port]));
    assert.equal(byName['grpc']?.port, serverConfig.port);
    assert.equal(byName['metrics']?.port, serverConfig.metricsPort);
    for (const port of service.spec.ports) assert.ok(portNamed(serverContainer, port.targetPort));
  });

  it('label the pods as deploy/prometheus/prometheus-kubernetes.yml and the PodMonitors select them', async () => {
    const prometheus = parse(
      await readFile(path.join(DEPLOY_DIR, 'prometheus', 'prometheus-kubernetes.yml'), 'utf8'),
    ) as {
      scrape_configs: Array<{
        relabel_configs: Array<{ source_labels?: string[]; regex?: string; action?: string }>;
      }>;
    };
    const kept = prometheus.scrape_configs.flatMap((scrape) =>
      scrape.relabel_configs
        .filter(
          (rule) =>
            rule.action === 'keep' &&
            rule.source_labels?.[0] === '__meta_kubernetes_pod_label_app_kubernetes_io_name',
        )
        .map((rule) => rule.regex),
    );
    const pods = [server, job.spec.template];
    assert.deepEqual(
      pods.map((pod) => pod.metadata.labels['app.kubernetes.io/name']),
      kept,
    );
    for (const [pod, container] of [
      [server, serverContainer],
      [job.spec.template, trainer],
    ] as const) {
      const name = pod.metadata.labels['app.kubernetes.io/name'] ?? '';
      const monitor = kindNamed(manifests, 'PodMonitor', name) as {
        apiVersion: string;
        spec: {
          selector: { matchLabels: Record<string, string> };
          podMetricsEndpoints: Array<{ port: string }>;
        };
      };
      assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
      assert.deepEqual(monitor.spec.selector.matchLabels, { 'app.kubernetes.io/name': name });
      for (const endpoint of monitor.spec.podMetricsEndpoints) assert.ok(portNamed(container, endpoint.port));
    }
  });

  it('keep a disruption budget over the server pods', () => {
    const budget = kindNamed(manifests, 'PodDisruptionBudget', 'voxelfeed-server') as {
      spec: { selector: { matchLabels: Record<string, string> } };
    };
    for (const [key, value] of Object.entries(budget.spec.selector.matchLabels)) {
      assert.equal(server.metadata.labels[key], value);
    }
  });

  it('run the trainers as an Indexed Job whose pods take ranks 0..W-1 from their completion index', () => {
    const env = envOf(trainer.env);
    assert.equal(job.spec.completionMode, 'Indexed');
    assert.equal(job.spec.completions, job.spec.parallelism);
    assert.equal(Number(env['VOXELFEED_WORLD_SIZE']), job.spec.completions);
    for (let index = 0; index < job.spec.completions; index += 1) {
      const config = trainConfigOf(trainer.args ?? [], { ...env, JOB_COMPLETION_INDEX: String(index) });
      assert.equal(config.rank, index);
      assert.equal(config.worldSize, job.spec.completions);
      assert.equal(portNamed(trainer, 'metrics'), config.metricsPort);
      assert.equal(config.metricsHost, '0.0.0.0');
    }
    assert.equal(Number(trainer.resources?.limits?.['nvidia.com/gpu']), 1);
  });

  it('point the trainers at every server pod behind the headless service, on its gRPC port', () => {
    const config = trainConfigOf(trainer.args ?? [], { ...envOf(trainer.env), JOB_COMPLETION_INDEX: '0' });
    assert.deepEqual(config.servers, [`dns:///voxelfeed-server:${serverConfig.port}`]);
  });

  it("let every rank find rank 0 through a headless Service of the Job's pods, on its rendezvous port", () => {
    const service = kindNamed(manifests, 'Service', 'voxelfeed-trainer') as {
      spec: {
        clusterIP: string;
        publishNotReadyAddresses?: boolean;
        selector: Record<string, string>;
        ports: Array<{ name: string; port: number; targetPort: string }>;
      };
    };
    assert.equal(service.spec.clusterIP, 'None');
    assert.equal(service.spec.publishNotReadyAddresses, true, 'ranks meet before they are ready');
    for (const [key, value] of Object.entries(service.spec.selector)) {
      assert.equal(job.spec.template.metadata.labels[key], value);
    }
    const podSpec = job.spec.template.spec as { subdomain?: string };
    assert.equal(podSpec.subdomain, 'voxelfeed-trainer', 'pods get names under the Service');
    const jobName = (kindNamed(manifests, 'Job', 'voxelfeed-trainer') as { metadata: { name: string } })
      .metadata.name;
    for (let index = 0; index < job.spec.completions; index += 1) {
      const config = trainConfigOf(trainer.args ?? [], {
        ...envOf(trainer.env),
        JOB_COMPLETION_INDEX: String(index),
      });
      // An Indexed Job's pod i has host name <job>-i; with the subdomain, <job>-i.<service> resolves to it.
      assert.equal(config.masterAddr, `${jobName}-0.voxelfeed-trainer`);
      assert.equal(portNamed(trainer, 'rendezvous'), config.masterPort);
      const servicePort = service.spec.ports.find((port) => port.targetPort === 'rendezvous');
      assert.equal(servicePort?.port, config.masterPort);
      assert.equal(config.resume, true, 'a retried job continues from the last checkpoint');
    }
  });

  it('pin rank r to server replica r mod K and cut each epoch into one part per replica', () => {
    const config = trainConfigOf(trainer.args ?? [], { ...envOf(trainer.env), JOB_COMPLETION_INDEX: '0' });
    assert.equal(config.rankAffinity, true);
    assert.equal(config.rankGroups, serverReplicas, 'VOXELFEED_RANK_GROUPS follows the server replicas');
    assert.ok(config.rankGroups <= config.worldSize);
  });
});

describe('deploy/compose.yaml', () => {
  let services: Record<string, ComposeService>;
  let known: Set<string>;

  before(async () => {
    const [compose] = await parseYamlFile(path.join(DEPLOY_DIR, 'compose.yaml'));
    services = (compose as { services: Record<string, ComposeService> }).services;
    known = await variablesReadBy(PROGRAM_SOURCES);
  });

  const voxelfeedServices = () =>
    Object.entries(services).filter(([, service]) => service.image?.startsWith('voxelfeed') ?? false);

  it('publishes the server ports its command configures and stops it after its shutdown grace', () => {
    const server = services['voxelfeed-server'];
    assert.ok(server);
    const config = serveConfigOf(server.command ?? [], envOf(server.environment));
    const published = (server.ports ?? []).map((mapping) => Number(mapping.split(':').at(-1)));
    assert.deepEqual(published.sort(), [config.port, config.metricsPort].sort());
    assertFlagsDocumented(server.command ?? [], SERVE_HELP, 'voxelfeed-server');
    const stopGrace = /^(\d+)s$/.exec(server.stop_grace_period ?? '10s')?.[1];
    assert.ok(
      Number(stopGrace) * 1000 > config.shutdownGraceMs,
      `stop_grace_period above the shutdown grace`,
    );
  });

  it('runs ranks 0..W-1 of one world size against the server, each scraped by deploy/prometheus', async () => {
    const server = services['voxelfeed-server'];
    assert.ok(server);
    const serverConfig = serveConfigOf(server.command ?? [], envOf(server.environment));
    const prometheus = parse(
      await readFile(path.join(DEPLOY_DIR, 'prometheus', 'prometheus.yml'), 'utf8'),
    ) as {
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const targets = (job: string) =>
      prometheus.scrape_configs
        .find((scrape) => scrape.job_name === job)
        ?.static_configs.flatMap((c) => c.targets);
    assert.deepEqual(targets('voxelfeed-server'), [`voxelfeed-server:${serverConfig.metricsPort}`]);

    const trainers = Object.entries(services).filter(([name]) => name.startsWith('voxelfeed-trainer'));
    const configs = trainers.map(([name, service]) => {
      assertFlagsDocumented(service.command ?? [], TRAIN_HELP, name);
      return { name, config: trainConfigOf(service.command ?? [], envOf(service.environment)) };
    });
    const worldSize = configs[0]?.config.worldSize ?? 0;
    assert.equal(worldSize, 2);
    assert.deepEqual(
      configs.map(({ config }) => config.rank).sort(),
      Array.from({ length: worldSize }, (_, rank) => rank),
    );
    const rank0 = configs.find(({ config }) => config.rank === 0);
    assert.ok(rank0);
    for (const { config } of configs) {
      assert.equal(config.worldSize, worldSize);
      assert.equal(config.metricsHost, '0.0.0.0');
      assert.deepEqual(config.servers, [`voxelfeed-server:${serverConfig.port}`]);
      // Every rank finds rank 0 by its service name, on the port rank 0 listens on.
      assert.equal(config.masterAddr, rank0.name);
      assert.equal(config.masterPort, rank0.config.masterPort);
      assert.equal(config.checkpointDir, rank0.config.checkpointDir, 'the same command but --rank');
    }
    assert.deepEqual(
      targets('voxelfeed-trainer')?.sort(),
      configs.map(({ name, config }) => `${name}:${config.metricsPort}`).sort(),
    );
  });

  it('sets only variables that the programs read', () => {
    for (const [name, service] of voxelfeedServices()) {
      for (const variable of Object.keys(service.environment ?? {})) {
        assert.ok(known.has(variable), `${name}: ${variable}`);
      }
    }
  });

  it('mounts Prometheus and Grafana files that exist, at the paths their configs expect', () => {
    const mounts = [...(services['prometheus']?.volumes ?? []), ...(services['grafana']?.volumes ?? [])];
    const bound = mounts.filter((mount) => mount.startsWith('./'));
    assert.ok(bound.some((mount) => mount.startsWith('./prometheus:/etc/prometheus')));
    assert.ok(bound.some((mount) => mount.startsWith('./grafana/provisioning:/etc/grafana/provisioning')));
    for (const mount of bound) {
      assert.ok(existsSync(path.join(DEPLOY_DIR, mount.split(':')[0] ?? '')), mount);
    }
    assert.ok(
      services['prometheus'],
      'Grafana data source http://prometheus:9090 needs the service prometheus',
    );
  });

  it('follows the Compose Specification schema and the rules in deploy/.dclintrc.yaml (dclint)', async () => {
    const dclint = path.join(REPO_ROOT, 'node_modules', '.bin', 'dclint');
    const lint = (file: string) =>
      spawnSync(
        dclint,
        ['-c', path.join(DEPLOY_DIR, '.dclintrc.yaml'), '--color', 'false', '--max-warnings', '0', file],
        {
          encoding: 'utf8',
        },
      );
    const ours = lint(path.join(DEPLOY_DIR, 'compose.yaml'));
    assert.equal(ours.status, 0, `${ours.stdout}${ours.stderr}`);
    // The same check on a copy with a key the schema does not know must fail: dclint really validates.
    const broken = path.join(await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-compose-')), 'compose.yaml');
    try {
      const text = await readFile(path.join(DEPLOY_DIR, 'compose.yaml'), 'utf8');
      await writeFile(
        broken,
        text.replace('    stop_grace_period: 15s', '    stop_grace_period: 15s\n    restart_policy: always'),
      );
      const result = lint(broken);
      assert.notEqual(result.status, 0);
      assert.match(result.stdout, /invalid-schema/);
    } finally {
      await rm(path.dirname(broken), { recursive: true, force: true });
    }
  });

  it('tags the images with the package version, as the Kubernetes overlay does', async () => {
    const { version } = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    for (const [name, service] of voxelfeedServices())
      assert.equal(service.image?.split(':')[1], version, name);
    const [kustomization] = await parseYamlFile(path.join(DEPLOY_DIR, 'k8s', 'kustomization.yaml'));
    for (const image of (kustomization as { images: Array<{ name: string; newTag: string }> }).images)
      assert.equal(image.newTag, version, image.name);
  });

  it('is accepted by docker compose config', {
    skip: commandWorks('docker', ['compose', 'version']) ? false : 'docker compose is not installed',
  }, async () => {
    await run('docker', ['compose', '-f', path.join(DEPLOY_DIR, 'compose.yaml'), 'config', '--quiet']);
  });
});

describe('the Dockerfiles in deploy/docker', () => {
  const instructions = async (name: string) =>
    dockerfileInstructions(await readFile(path.join(DEPLOY_DIR, 'docker', name), 'utf8'));
  const json = (rest: string): string[] => JSON.parse(rest) as string[];

  for (const name of ['server.Dockerfile', 'trainer-gpu.Dockerfile']) {
    it(`${name} runs bin/voxelfeed.js as a non-root user and copies only paths that exist`, async () => {
      const lines = await instructions(name);
      const user = lines.filter((line) => line.keyword === 'USER').at(-1)?.rest;
      assert.ok(user !== undefined && !['root', '0'].includes(user.split(':')[0] ?? ''), `USER ${user}`);
      const entrypoint = json(lines.find((line) => line.keyword === 'ENTRYPOINT')?.rest ?? '[]');
      assert.deepEqual(entrypoint.slice(0, 2), ['node', 'bin/voxelfeed.js']);
      for (const line of lines.filter((l) => l.keyword === 'COPY' && !l.rest.startsWith('--from'))) {
        for (const source of line.rest.split(/\s+/).slice(0, -1)) {
          assert.ok(existsSync(path.join(REPO_ROOT, source)), `COPY ${source}`);
        }
      }
    });
  }

  it('server.Dockerfile checks gRPC health and exposes the ports of its default command', async () => {
    const lines = await instructions('server.Dockerfile');
    const healthcheck = lines.find((line) => line.keyword === 'HEALTHCHECK')?.rest ?? '';
    assert.match(healthcheck, /grpc-health-check\.mjs/);
    const cmd = json(lines.find((line) => line.keyword === 'CMD')?.rest ?? '[]');
    const config = serveConfigOf(cmd, {});
    assert.equal(config.host, '0.0.0.0');
    const exposed = lines
      .filter((line) => line.keyword === 'EXPOSE')
      .flatMap((line) => line.rest.split(/\s+/));
    assert.deepEqual(exposed.map(Number), [config.port, config.metricsPort]);
    assert.ok(lines.some((line) => line.keyword === 'RUN' && /npm ci --omit=dev/.test(line.rest)));
  });

  it('trainer-gpu.Dockerfile runs train on CUDA 11.2 with tfjs-node-gpu 4.22.0', async () => {
    const lines = await instructions('trainer-gpu.Dockerfile');
    const entrypoint = json(lines.find((line) => line.keyword === 'ENTRYPOINT')?.rest ?? '[]');
    assert.equal(entrypoint[2], 'train');
    assert.ok(
      lines.some((line) => line.keyword === 'FROM' && /^nvidia\/cuda:11\.2\.\d+-cudnn8-/.test(line.rest)),
    );
    assert.ok(lines.some((line) => /@tensorflow\/tfjs-node-gpu@4\.22\.0/.test(line.rest)));
    const exposed = lines.filter((line) => line.keyword === 'EXPOSE').map((line) => Number(line.rest));
    assert.deepEqual(exposed, [trainConfigOf([], {}).metricsPort]);
  });
});

/** Runs the health check script; asynchronous, as the servers answer from this process. */
async function healthCheck(
  args: readonly string[],
  variables: Record<string, string> = {},
): Promise<{ status: number; stderr: string }> {
  // The runner's own VOXELFEED_* settings must not switch the check to TLS or point it elsewhere.
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith('VOXELFEED_'));
  try {
    const { stderr } = await run(process.execPath, [HEALTH_CHECK, ...args], {
      cwd: REPO_ROOT,
      timeout: 20_000,
      env: { ...Object.fromEntries(inherited), ...variables },
    });
    return { status: 0, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stderr?: string };
    return { status: typeof failed.code === 'number' ? failed.code : -1, stderr: failed.stderr ?? '' };
  }
}

describe('deploy/docker/grpc-health-check.mjs', () => {
  let dataset: TempDataset;
  let server: TestServer;

  before(async () => {
    dataset = await createPhantomDataset({ series: 1, shape: [16, 32, 32] });
    server = await startTestServer({ data: dataset.dir });
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
  });

  const check = (...args: string[]) => healthCheck(args);

  it('exits 0 when the server is SERVING, for the whole server and for the feed service', async () => {
    for (const service of [[], ['voxelfeed.v1.VoxelFeed']]) {
      const result = await check(server.address, ...service);
      assert.equal(result.status, 0, result.stderr);
    }
  });

  it('exits 1 for a service the server does not know', async () => {
    assert.equal((await check(server.address, 'no.such.Service')).status, 1);
  });

  it('exits 1 when nothing listens on the port', async () => {
    const result = await check(`127.0.0.1:${await freeLoopbackPort()}`);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /UNAVAILABLE/);
  });
});

describe('deploy/docker/grpc-health-check.mjs against a TLS server', () => {
  let dataset: TempDataset;
  let pki: TestCertificates;
  /** A self-signed certificate for the name voxelfeed-server only, as a Secret for a Service might hold. */
  let selfSigned: { cert: string; key: string };
  let tlsServer: TestServer;
  let mutualServer: TestServer;

  // The test server's insecure client is never used here: only the health check calls these servers.
  const startTls = (tls: NonNullable<ServeConfig['tls']>) =>
    startTestServer({
      data: dataset.dir,
      cacheMaxBytes: 64 * 1024 * 1024,
      config: { metricsPort: null, tls, authTokenFile: null },
    });

  before(async () => {
    [dataset, pki] = await Promise.all([
      createPhantomDataset({ series: 1, shape: [16, 32, 32] }),
      createTestCertificates(),
    ]);
    selfSigned = { cert: path.join(pki.dir, 'self-signed.crt'), key: path.join(pki.dir, 'self-signed.key') };
    await run(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
        ...['-keyout', selfSigned.key, '-out', selfSigned.cert, '-days', '2'],
        ...['-subj', '/CN=voxelfeed-server', '-addext', 'subjectAltName=DNS:voxelfeed-server'],
      ],
      { timeout: 20_000 },
    );
    [tlsServer, mutualServer] = await Promise.all([
      startTls({ certFile: selfSigned.cert, keyFile: selfSigned.key, clientCaFile: null }),
      startTls({ certFile: pki.server.cert, keyFile: pki.server.key, clientCaFile: pki.ca }),
    ]);
  });

  after(async () => {
    await Promise.all([tlsServer?.close(), mutualServer?.close()]);
    await Promise.all([dataset?.cleanup(), pki?.cleanup()]);
  });

  it('checks a server whose self-signed certificate names another host, given only the server variables', async () => {
    const server = { VOXELFEED_TLS_CERT: selfSigned.cert, VOXELFEED_TLS_KEY: selfSigned.key };
    const result = await healthCheck([tlsServer.address], server);
    assert.equal(result.status, 0, result.stderr);
    // The same server fails a plaintext check, and a check that verifies the certificate for 127.0.0.1.
    assert.equal((await healthCheck([tlsServer.address])).status, 1);
    const wrongName = await healthCheck([tlsServer.address], {
      ...server,
      VOXELFEED_HEALTH_SERVER_NAME: '127.0.0.1',
    });
    assert.equal(wrongName.status, 1);
    assert.match(wrongName.stderr, /UNAVAILABLE.*VOXELFEED_TLS_CERT/s);
  });

  it('checks a mutual-TLS server with VOXELFEED_HEALTH_CA and a client certificate from VOXELFEED_HEALTH_CERT', async () => {
    const server = {
      VOXELFEED_TLS_CERT: pki.server.cert,
      VOXELFEED_TLS_KEY: pki.server.key,
      VOXELFEED_TLS_CLIENT_CA: pki.ca,
    };
    const client = { VOXELFEED_HEALTH_CERT: pki.client.cert, VOXELFEED_HEALTH_KEY: pki.client.key };
    const result = await healthCheck([mutualServer.address], {
      ...server,
      ...client,
      VOXELFEED_HEALTH_CA: pki.ca,
    });
    assert.equal(result.status, 0, result.stderr);
    // The server's chain file holds no root, so it cannot be the trust anchor: the CA must be given.
    assert.equal((await healthCheck([mutualServer.address], { ...server, ...client })).status, 1);
  });

  it('fails a mutual-TLS server that rejects the server certificate as a client, naming the variables to set', async () => {
    // pki.server is for serverAuth only, so the server's key pair is no client certificate.
    const result = await healthCheck([mutualServer.address], {
      VOXELFEED_TLS_CERT: pki.server.cert,
      VOXELFEED_TLS_KEY: pki.server.key,
      VOXELFEED_TLS_CLIENT_CA: pki.ca,
      VOXELFEED_HEALTH_CA: pki.ca,
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /VOXELFEED_HEALTH_CERT and VOXELFEED_HEALTH_KEY/);
  });

  it('exits 1 naming the variable when a TLS file cannot be read, or a client key is missing', async () => {
    const missing = await healthCheck([tlsServer.address], {
      VOXELFEED_TLS_CERT: path.join(pki.dir, 'absent.crt'),
    });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot read VOXELFEED_TLS_CERT .*absent\.crt/);
    const halfPair = await healthCheck([tlsServer.address], {
      VOXELFEED_TLS_CERT: selfSigned.cert,
      VOXELFEED_HEALTH_CERT: pki.client.cert,
    });
    assert.equal(halfPair.status, 1);
    assert.match(halfPair.stderr, /set both VOXELFEED_HEALTH_CERT and VOXELFEED_HEALTH_KEY/);
  });
});
