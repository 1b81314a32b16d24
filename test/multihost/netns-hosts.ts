import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface NetnsHost {
  /** The network namespace's name, for `ip netns exec`. */
  readonly ns: string;
  /** Its address in the private test subnet. */
  readonly address: string;
  /** The name of its interface on that subnet, e.g. for GLOO_SOCKET_IFNAME. */
  readonly device: string;
}

export interface NetnsHosts {
  readonly hub: NetnsHost;
  readonly leaves: readonly NetnsHost[];
  /** Deletes every namespace (and with them their veths and the bridge); never throws. */
  cleanup(): Promise<void>;
}

/** Runs `ip ARGS`, bounded; rejects with ip's stderr. */
async function ip(...args: string[]): Promise<string> {
  const { stdout } = await run('ip', args, { timeout: 10_000 });
  return stdout;
}

/**
 * Why network namespaces cannot be made here (not root, no `ip`, EPERM), or null when they can: tries to add
 * and delete a scratch namespace, the only check that answers for sandboxes that drop CAP_SYS_ADMIN.
 */
export async function netnsUnavailable(tag: string): Promise<string | null> {
  if (process.platform !== 'linux') return `network namespaces need Linux, not ${process.platform}`;
  if (process.getuid?.() !== 0)
    return 'network namespaces need root (run as root, or in a container with CAP_SYS_ADMIN)';
  const probe = `${tag}-probe`;
  try {
    await ip('netns', 'add', probe);
    await ip('netns', 'del', probe);
    return null;
  } catch (error) {
    await ip('netns', 'del', probe).catch(() => {});
    return `cannot make a network namespace with iproute2 (${String(error).split('\n')[0]})`;
  }
}

/**
 * A hub namespace and `leafCount` leaf namespaces on one private /24 (10.231.N.0, N from the tag's hash so
 * parallel runs differ; the subnet exists only inside these namespaces, nothing is routed out). Each leaf has a
 * veth pair into the hub, whose ends join a bridge there; the bridge holds the hub's address, .1, the leaves .2
 * and up. Names start with `tag` (make it unique, e.g. with the pid). On failure, whatever was made is removed.
 */
export async function createNetnsHosts(tag: string, leafCount: number): Promise<NetnsHosts> {
  const subnet = `10.231.${hashByte(tag)}`;
  const hub: NetnsHost = { ns: `${tag}-hub`, address: `${subnet}.1`, device: 'br0' };
  const leaves: NetnsHost[] = Array.from({ length: leafCount }, (_, i) => ({
    ns: `${tag}-leaf${i}`,
    address: `${subnet}.${i + 2}`,
    device: 'eth0',
  }));
  const made: string[] = [];
  const cleanup = async () => {
    for (const ns of made.splice(0).reverse()) await ip('netns', 'del', ns).catch(() => {});
  };
  try {
    for (const host of [hub, ...leaves]) {
      await ip('netns', 'add', host.ns);
      made.push(host.ns);
      await ip('-n', host.ns, 'link', 'set', 'lo', 'up');
    }
    await ip('-n', hub.ns, 'link', 'add', hub.device, 'type', 'bridge');
    await ip('-n', hub.ns, 'addr', 'add', `${hub.address}/24`, 'dev', hub.device);
    await ip('-n', hub.ns, 'link', 'set', hub.device, 'up');
    for (const [i, leaf] of leaves.entries()) {
      // Both ends are created straight inside their namespaces, so their short names never meet the host's.
      await ip(
        'link',
        'add',
        `hub${i}`,
        'netns',
        hub.ns,
        'type',
        'veth',
        'peer',
        'name',
        leaf.device,
        'netns',
        leaf.ns,
      );
      await ip('-n', hub.ns, 'link', 'set', `hub${i}`, 'master', hub.device);
      await ip('-n', hub.ns, 'link', 'set', `hub${i}`, 'up');
      await ip('-n', leaf.ns, 'addr', 'add', `${leaf.address}/24`, 'dev', leaf.device);
      await ip('-n', leaf.ns, 'link', 'set', leaf.device, 'up');
    }
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { hub, leaves, cleanup };
}

/** 1..254 from the tag, so two runs with different tags rarely share a subnet (and never a namespace). */
function hashByte(tag: string): number {
  let hash = 0;
  for (const char of tag) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return 1 + (hash % 254);
}
