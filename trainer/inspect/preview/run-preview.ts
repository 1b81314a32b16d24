import { once } from 'node:events';
import { createFeedClient, type FeedClient } from '@voxelfeed/client';
import { readFeedSecurity } from '../../config/read-feed-security.js';
import { feedFailure } from '../../feed-failure.js';
import { loadCaptionFont } from '../image/caption-font.js';
import { BatchCache } from './browser/batch-cache.js';
import type { BrowserPages } from './browser/browser-routes.js';
import { type CropBrowser, startCropBrowser } from './browser/start-crop-browser.js';
import type { PreviewBatch } from './preview-batch.js';
import { PREVIEW_HELP, type PreviewConfig, parsePreviewConfig } from './preview-config.js';
import { fetchSample, fetchStep, previewBatches } from './preview-source.js';
import { type WrittenMontage, writeMontages } from './write-montages.js';

/** Batches the crop browser keeps, so scrolling a batch fetches it once. */
const BROWSER_CACHED_BATCHES = 8;

/**
 * The composition root of `voxelfeed preview`: reads the config, then writes the montages (a line per file,
 * a JSON summary line last, on stdout) or serves the crop browser until SIGINT or SIGTERM.
 */
export async function runPreview(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const config = parsePreviewConfig(argv, env);
  if (config === 'help') {
    process.stdout.write(`${PREVIEW_HELP}\n`);
    return 0;
  }
  const security = await readFeedSecurity(config);
  const feed = createFeedClient({
    addresses: [config.server],
    reconnect: { maxAttempts: config.reconnectAttempts },
    ...security.options,
  });
  try {
    if (config.output.kind === 'files') {
      const written = await previewToFiles(config, feed, (montage) =>
        process.stdout.write(
          `wrote ${montage.file} (${montage.samples} samples x ${montage.slices} slices, ${montage.width}x${montage.height})\n`,
        ),
      );
      process.stdout.write(`${JSON.stringify(previewSummary(config, written))}\n`);
      return 0;
    }
    if (config.output.public) {
      process.stderr.write(
        `voxelfeed preview: --serve-public: the crop browser listens on ${config.output.address.host}, where other machines can see the crops without a token\n`,
      );
    }
    const browser = await serveCropBrowser(config, feed);
    process.stdout.write(`crop browser at ${browser.url} (Ctrl-C to stop)\n`);
    await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
    await browser.close();
    return 0;
  } catch (error) {
    throw failureLine(error, config) ?? error;
  } finally {
    feed.close();
  }
}

/** The montages of the configured request, written under --out; a feed failure becomes one line. */
export async function previewToFiles(
  config: PreviewConfig,
  feed: Pick<FeedClient, 'streamBatches' | 'getSample'>,
  wrote: (montage: WrittenMontage) => void,
): Promise<WrittenMontage[]> {
  if (config.output.kind !== 'files') throw new TypeError('previewToFiles needs --out');
  const font = await loadCaptionFont();
  try {
    return await writeMontages(
      previewBatches(feed, config.request, config.indices),
      config.output.outDir,
      { every: config.every, scale: config.scale },
      font,
      wrote,
    );
  } catch (error) {
    throw failureLine(error, config) ?? error;
  }
}

/** The crop browser over the configured request; the caller closes it. */
export async function serveCropBrowser(
  config: PreviewConfig,
  feed: Pick<FeedClient, 'streamBatches' | 'getSample'>,
): Promise<CropBrowser> {
  if (config.output.kind !== 'serve') throw new TypeError('serveCropBrowser needs --serve');
  const { request, indices } = config;
  const first = request.startStep ?? 0;
  const steps = request.maxSteps ?? 0;
  const pages: BrowserPages =
    indices !== null
      ? { kind: 'indices', indices }
      : { kind: 'steps', first, last: steps === 0 ? null : first + steps - 1 };
  const cache = new BatchCache<PreviewBatch>(BROWSER_CACHED_BATCHES, (key) =>
    indices !== null ? fetchSample(feed, request, Number(key)) : fetchStep(feed, request, Number(key)),
  );
  return startCropBrowser(
    {
      address: config.output.address,
      public: config.output.public,
      describeError: (error) => (failureLine(error, config) ?? (error as Error)).message,
    },
    {
      pages,
      request: {
        server: config.server,
        seed: String(request.seed ?? 0),
        epoch: request.epoch ?? 0,
        ...(indices === null ? { rank: `${request.rank ?? 0}/${request.worldSize ?? 1}` } : {}),
        crop: request.cropSize.join('x'),
      },
      batch: (key) => cache.get(String(key)),
    },
  );
}

function failureLine(error: unknown, config: PreviewConfig) {
  return feedFailure(error, [config.server], config.reconnectAttempts, '--server (VOXELFEED_SERVER)');
}

function previewSummary(config: PreviewConfig, written: readonly WrittenMontage[]) {
  return {
    command: 'preview',
    out: config.output.kind === 'files' ? config.output.outDir : null,
    files: written.length,
    samples: written.reduce((sum, montage) => sum + montage.samples, 0),
    steps: written.flatMap((montage) => (montage.step === null ? [] : [montage.step])),
    indices: config.indices,
    every: config.every,
    scale: config.scale,
  };
}
