import { Session } from 'node:inspector/promises';
import path from 'node:path';

/** Bytes allocated by the functions of this repository, as V8's sampling heap profiler attributes them. */
export interface AllocationSite {
  /** `function (folder/file.ts)`: the innermost function of this repository on the allocating stack. */
  readonly site: string;
  readonly bytes: number;
}

interface ProfileNode {
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly selfSize: number;
  readonly children: readonly ProfileNode[];
}

const ROOT = path.resolve('.');

/**
 * Where `work` allocates on the JS heap: V8's sampling heap profiler, told to keep the objects that collections
 * freed (by default it reports only what is still alive, and garbage is what is wanted here), samples an
 * allocation every `samplingInterval` bytes on average with its stack. Each sample is charged to the innermost
 * function of this repository on its stack, so a typed array built in `extractCrop` counts as `extractCrop`'s.
 * Sampled, so estimates: sites under a few `samplingInterval`s per run are noise.
 */
export async function allocationSites(
  work: () => Promise<void>,
  samplingInterval = 1024,
): Promise<AllocationSite[]> {
  const session = new Session();
  session.connect();
  try {
    await session.post('HeapProfiler.enable');
    // @types/node's protocol types predate the two flags; V8 in Node 20 takes them.
    const sampling = {
      samplingInterval,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    };
    await session.post('HeapProfiler.startSampling', sampling);
    await work();
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as {
      profile: { head: ProfileNode };
    };
    const bySite = new Map<string, number>();
    const walk = (node: ProfileNode, site: string) => {
      const own = siteOf(node) ?? site;
      if (node.selfSize > 0) bySite.set(own, (bySite.get(own) ?? 0) + node.selfSize);
      for (const child of node.children) walk(child, own);
    };
    walk(profile.head, '(outside this repository)');
    return [...bySite].map(([site, bytes]) => ({ site, bytes })).sort((a, b) => b.bytes - a.bytes);
  } finally {
    await session.post('HeapProfiler.disable').catch(() => {});
    session.disconnect();
  }
}

function siteOf(node: ProfileNode): string | null {
  const { functionName, url } = node.callFrame;
  if (!url.startsWith('file://')) return null;
  const file = path.relative(ROOT, new URL(url).pathname);
  if (file.startsWith('..') || file.includes('node_modules')) return null;
  return `${functionName || '(anonymous)'} (${file})`;
}
