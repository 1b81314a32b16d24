import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { command } from '../../../common/cli/command-spec.js';
import { parseCommandLine } from '../../../common/cli/parse-command-line.js';
import { BATCH_REQUEST_OPTIONS, batchRequestInput } from '../../../trainer/inspect/batch-request-options.js';

const LOOK = command({ name: 'look', usage: 'Usage: look', summary: 'test', options: BATCH_REQUEST_OPTIONS });

function read(argv: readonly string[]) {
  const line = parseCommandLine(LOOK, argv, {});
  assert.notEqual(line, 'help');
  if (line === 'help') throw new Error('help');
  const problems = [...line.problems];
  return { input: batchRequestInput(line, problems), problems };
}

describe('BATCH_REQUEST_OPTIONS', () => {
  it('leaves unset probabilities to the server and always asks for the mask', () => {
    const { input, problems } = read([]);
    assert.deepEqual(problems, []);
    assert.deepEqual(input.sampling, { samplesPerNodule: 0, negativesPerEpoch: 0, shuffleWindow: 0 });
    assert.equal(input.includeMask, true);
    assert.equal(input.split, undefined);
    assert.equal(input.dataset, undefined);
  });

  it('maps every flag onto the request', () => {
    const { input, problems } = read([
      '--dataset=phantom',
      '--seed=7',
      '--epoch=2',
      '--start-step=3',
      '--steps=4',
      '--rank=1',
      '--world-size=2',
      '--batch=5',
      '--crop=8,32,32',
      '--jitter-prob=0.2',
      '--center-prob=0.3',
      '--negative-prob=0.5',
      '--samples-per-nodule=2',
      '--negatives=9',
      '--shuffle-window=4',
      '--holdout=0.25',
      '--part=holdout',
    ]);
    assert.deepEqual(problems, []);
    assert.deepEqual(input, {
      dataset: 'phantom',
      seed: 7,
      epoch: 2,
      rank: 1,
      worldSize: 2,
      batchSize: 5,
      cropSize: [8, 32, 32],
      sampling: {
        jitterProb: 0.2,
        centerProb: 0.3,
        negativeProb: 0.5,
        samplesPerNodule: 2,
        negativesPerEpoch: 9,
        shuffleWindow: 4,
      },
      includeMask: true,
      startStep: 3,
      maxSteps: 4,
      split: { holdoutFraction: 0.25, part: 'holdout' },
    });
  });

  it('names a part without a split and a rank outside the world', () => {
    const { problems } = read(['--part=train', '--rank=2', '--world-size=2']);
    assert.equal(problems.length, 2);
    assert.match(problems[0] ?? '', /--part train needs --holdout F/);
    assert.match(problems[1] ?? '', /--rank 2 is not below --world-size 2/);
  });
});
