import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { createFeedClient, type FeedClient } from '../../client/index.js';
import type { CropBrowser } from '../../trainer/inspect/preview/browser/start-crop-browser.js';
import { PREVIEW_COLOURS } from '../../trainer/inspect/preview/preview-colours.js';
import { parsePreviewConfig } from '../../trainer/inspect/preview/preview-config.js';
import { fetchStep } from '../../trainer/inspect/preview/preview-source.js';
import { serveCropBrowser } from '../../trainer/inspect/preview/run-preview.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const CHROMIUM = '/usr/bin/chromium';
const CROP = [12, 32, 32] as const;
/** Bounds every wait on the page: the first render includes chromium's start and a batch's fetch. */
const WAIT_MS = 30_000;

interface Shown {
  key: number;
  sample: number;
  z: number;
  overlay: boolean;
  scale: number;
}

/*
 * The page's code runs in chromium; the repository compiles without the DOM's types, so what runs there is
 * written as expression text.
 */

/** The slice the page last finished drawing (the script records it on <body> after each draw). */
async function shown(page: Page): Promise<Shown> {
  return JSON.parse((await page.evaluate('document.body.dataset.shown || "null"')) as string);
}

async function waitShown(page: Page, want: Partial<Shown>): Promise<Shown> {
  const checks = Object.entries(want)
    .map(([name, value]) => `now.${name} === ${JSON.stringify(value)}`)
    .join(' && ');
  await page.waitForFunction(
    `(() => { const text = document.body.dataset.shown; if (!text) return false; const now = JSON.parse(text); return ${checks}; })()`,
    { timeout: WAIT_MS },
  );
  return shown(page);
}

/** The canvas pixel at (x, y) as RGB, read in the page. */
async function canvasPixel(page: Page, x: number, y: number): Promise<number[]> {
  return (await page.evaluate(
    `[...document.getElementById('slice').getContext('2d').getImageData(${x}, ${y}, 1, 1).data.slice(0, 3)]`,
  )) as number[];
}

describe('the crop browser in headless chromium', {
  skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: apt-get install chromium`,
}, () => {
  let dataset: TempDataset;
  let server: TestServer;
  let feed: FeedClient;
  let crops: CropBrowser;
  let browser: Browser;
  let page: Page;
  const args = ['--seed', '3', '--batch', '3', '--negatives', '12', '--crop', CROP.join(',')];

  before(async () => {
    dataset = await createPhantomDataset({ series: 4, shape: [24, 48, 48], seed: 11n });
    server = await startTestServer({ data: dataset.dir });
    feed = createFeedClient({ addresses: [server.address] });
    const config = parsePreviewConfig(['--server', server.address, '--serve', '127.0.0.1:0', ...args], {});
    assert.ok(config !== 'help');
    crops = await serveCropBrowser(config, feed);
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      timeout: WAIT_MS,
    });
    page = await browser.newPage();
    page.setDefaultTimeout(WAIT_MS);
  });

  after(async () => {
    await browser?.close();
    await crops?.close();
    feed?.close();
    await server?.close();
    await dataset?.cleanup();
  });

  it('loads, moves through slices with the arrow keys and the wheel, and toggles the overlay', async () => {
    assert.match(crops.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    await page.goto(crops.url, { timeout: WAIT_MS });
    const first = await waitShown(page, { key: 0, sample: 0 });
    assert.equal(first.overlay, true);
    await page.focus('#slice');
    const z = first.z === CROP[0] - 1 ? first.z - 1 : first.z;
    if (z !== first.z) {
      await page.keyboard.press('ArrowUp');
      await waitShown(page, { z });
    }
    await page.keyboard.press('ArrowDown');
    assert.equal((await waitShown(page, { z: z + 1 })).z, z + 1);
    await page.keyboard.press('ArrowUp');
    await waitShown(page, { z });
    await page.mouse.move(10, 10);
    const box = (await (await page.$('#slice'))!.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel({ deltaY: 100 });
    await waitShown(page, { z: z + 1 });
    await page.keyboard.press('m');
    assert.equal((await waitShown(page, { overlay: false })).overlay, false);
    await page.click('#overlay');
    await waitShown(page, { overlay: true });
    await page.keyboard.press('ArrowRight');
    await waitShown(page, { sample: 1 });
    await page.keyboard.press('PageDown');
    await waitShown(page, { key: 1 });
  });

  it('draws the contour colour on the canvas under a mask boundary, and the voxel grey without the overlay', async () => {
    // A mask boundary voxel of step 0, found in the batch the feed client gets for the same request.
    const config = parsePreviewConfig(['--out', 'unused', ...args], {});
    assert.ok(config !== 'help');
    const batch = await fetchStep(feed, config.request, 0);
    const [, s0, s1, s2] = batch.shape;
    let target: { sample: number; z: number; row: number; col: number } | null = null;
    for (let sample = 0; sample < batch.samples.length && target === null; sample++) {
      for (let z = 0; z < s0 && target === null; z++) {
        for (let row = 1; row < s1 - 1 && target === null; row++) {
          for (let col = 1; col < s2 - 1 && target === null; col++) {
            const at = ((sample * s0 + z) * s1 + row) * s2 + col;
            // A mask voxel whose left neighbour is outside the mask (on the boundary by any definition) and
            // whose right neighbour is inside it (all four in-plane neighbours in the mask): no contour there.
            const inner = at + 1;
            const interior = [inner, inner + 1, inner - s2, inner + s2].every((i) => batch.mask[i] === 1);
            if (col < s2 - 2 && batch.mask[at] === 1 && batch.mask[at - 1] === 0 && interior) {
              target = { sample, z, row, col };
            }
          }
        }
      }
    }
    assert.ok(target !== null, 'no mask boundary in step 0: pick a seed with nodules');
    await page.goto(crops.url, { timeout: WAIT_MS });
    await waitShown(page, { key: 0, sample: 0 });
    await page.select('#sample', String(target.sample));
    let now = await waitShown(page, { sample: target.sample });
    await page.focus('#slice');
    while (now.z !== target.z) {
      await page.keyboard.press(now.z < target.z ? 'ArrowDown' : 'ArrowUp');
      now = await waitShown(page, { z: now.z + (now.z < target.z ? 1 : -1) });
    }
    const { scale } = now;
    // The bottom-right pixel of the voxel's block: the centre cross (a third of a voxel thick) never covers it.
    const x = target.col * scale + scale - 1;
    const y = target.row * scale + scale - 1;
    assert.ok(scale >= 3, `scale ${scale}`);
    assert.deepEqual(await canvasPixel(page, x, y), [...PREVIEW_COLOURS.contour]);
    const inner = batch.image[((target.sample * s0 + target.z) * s1 + target.row) * s2 + target.col + 1]!;
    const centre = batch.samples[target.sample]!.noduleCenter.map((c, axis) =>
      Math.round(c - batch.samples[target!.sample]!.origin[axis]!),
    );
    if (centre[0] !== target.z || Math.abs(centre[1]! - target.row) > 2) {
      // Inside the mask, off the cross: the voxel's grey, not a filled mask.
      assert.deepEqual(await canvasPixel(page, x + scale, y), [inner, inner, inner]);
    }
    await page.click('#overlay');
    await waitShown(page, { overlay: false });
    const grey = batch.image[((target.sample * s0 + target.z) * s1 + target.row) * s2 + target.col]!;
    assert.deepEqual(await canvasPixel(page, x, y), [grey, grey, grey]);
    // Its outside neighbour stays grey either way.
    const outside = batch.image[((target.sample * s0 + target.z) * s1 + target.row) * s2 + target.col - 1]!;
    assert.deepEqual(await canvasPixel(page, x - scale, y), [outside, outside, outside]);
  });

  it('answers only requests addressed to its loopback address', async () => {
    const url = new URL(`${crops.url}api/info`);
    const status = (host: string) =>
      new Promise<number | undefined>((resolve, reject) => {
        const request = http.get({
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          headers: { host },
        });
        request.on('response', (response) => {
          response.resume();
          resolve(response.statusCode);
        });
        request.on('error', reject);
      });
    // A web page whose DNS name was rebound to 127.0.0.1 sends its own name as Host.
    assert.equal(await status(`rebound.example:${url.port}`), 421);
    assert.equal(await status(url.host), 200);
  });
});
