import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VoxelfeedError } from '../../../server/errors.js';
import { createEpochPlan } from '../../../server/sampling/epoch-plan.js';
import { planPosition, stepsInEpoch } from '../../../server/sampling/epoch-steps.js';
import { planSample } from '../../../server/sampling/plan-sample.js';
import { resolveSamplingPolicy } from '../../../server/sampling/sampling-policy.js';
import type { CropParams, SeriesSummary, Shape3 } from '../../../server/sampling/types.js';

describe('stepsInEpoch', () => {
  const cases: [items: number, world: number, batch: number, steps: number][] = [
    [0, 1, 1, 0],
    [1, 1, 1, 1],
    [37, 1, 8, 5],
    [37, 2, 4, 5],
    [37, 4, 2, 5],
    [40, 4, 2, 5],
    [41, 4, 2, 6],
    [5, 8, 4, 1],
  ];
  for (const [items, world, batch, steps] of cases) {
    it(`gives ${steps} steps for ${items} items, world ${world}, batch ${batch}`, () => {
      assert.equal(stepsInEpoch(items, world, batch), steps);
    });
  }

  it('refuses a zero world size or batch size, naming both', () => {
    assert.throws(
      () => stepsInEpoch(10, 0, 0),
      (error: unknown) =>
        error instanceof VoxelfeedError &&
        error.code === 'INVALID_ARGUMENT' &&
        error.message.includes('world_size is 0') &&
        error.message.includes('batch_size is 0'),
    );
  });
});

describe('planPosition', () => {
  it('is step*W*B + rank*B + slot', () => {
    assert.equal(planPosition({ worldSize: 1, batchSize: 1 }, 0, 0, 0), 0);
    assert.equal(planPosition({ worldSize: 4, batchSize: 5 }, 3, 1, 2), 3 * 20 + 5 + 2);
    assert.equal(planPosition({ worldSize: 4, batchSize: 2 }, 10, 3, 1), 80 + 6 + 1);
  });

  it('refuses a rank outside the world and a slot outside the batch', () => {
    assert.throws(
      () => planPosition({ worldSize: 4, batchSize: 2 }, 0, 4, 0),
      (error: unknown) =>
        error instanceof VoxelfeedError &&
        error.code === 'INVALID_ARGUMENT' &&
        error.message.includes('rank is 4'),
    );
    assert.throws(() => planPosition({ worldSize: 4, batchSize: 2 }, 0, 0, 2), RangeError);
  });

  it('refuses a step whose positions pass 2^53', () => {
    assert.throws(
      () => planPosition({ worldSize: 4, batchSize: 2 }, 2 ** 52, 0, 0),
      (error: unknown) => error instanceof VoxelfeedError && error.code === 'INVALID_ARGUMENT',
    );
  });
});

describe('steps across world sizes', () => {
  // 12 nodules x 3 samples + 1 negative = 37 items; global batch 8 leaves a last step with 3 wrapped positions.
  const series: SeriesSummary[] = [
    {
      uid: 'a',
      shape: [30, 40, 50],
      nodules: [0, 1, 2, 3, 4, 5].map((k) => ({
        center: [5 + k, 10 + 2 * k, 20 - k] as const,
        diameter: 2 + k,
      })),
    },
    { uid: 'b', shape: [12, 60, 20], nodules: [] },
    {
      uid: 'c',
      shape: [25, 25, 25],
      nodules: [0, 1, 2, 3, 4, 5].map((k) => ({ center: [k, 24 - k, 12] as const, diameter: 30 - k })),
    },
  ];
  const policy = resolveSamplingPolicy({ samplesPerNodule: 3, negativesPerEpoch: 1 });
  const size: Shape3 = [8, 16, 16];
  const seed = 1234n;
  const epoch = 6;
  const plan = createEpochPlan({ series, policy, seed, epoch });
  const globalBatch = 8;

  function stepUnion(world: number, step: number): CropParams[] {
    const batch = globalBatch / world;
    const samples: CropParams[] = [];
    for (let rank = 0; rank < world; rank++) {
      for (let slot = 0; slot < batch; slot++) {
        const position = planPosition({ worldSize: world, batchSize: batch }, step, rank, slot);
        samples.push(planSample({ plan, series, policy, seed, epoch, cropSize: size }, position));
      }
    }
    return samples.sort((a, b) => a.index - b.index);
  }

  it('has 37 items and 5 steps for every world size with the same global batch', () => {
    assert.equal(plan.size, 37);
    for (const world of [1, 2, 4]) assert.equal(stepsInEpoch(plan.size, world, globalBatch / world), 5);
  });

  it('gives the same union of positions and crop parameters at every step for world sizes 1, 2 and 4', () => {
    for (let step = 0; step < 5; step++) {
      const reference = stepUnion(1, step);
      assert.deepEqual(
        reference.map((s) => s.index),
        Array.from({ length: globalBatch }, (_, k) => step * globalBatch + k),
      );
      for (const world of [2, 4])
        assert.deepEqual(stepUnion(world, step), reference, `world ${world} step ${step}`);
    }
  });

  it('wraps the last step to the first items, with fresh draws under the wrapped positions', () => {
    const last = stepUnion(4, 4);
    const wrapped = last.filter((s) => s.index >= plan.size);
    assert.deepEqual(
      wrapped.map((s) => s.index),
      [37, 38, 39],
    );
    const firstStep = stepUnion(1, 0);
    let sameDraws = 0;
    for (const sample of wrapped) {
      const original = firstStep[sample.index - plan.size]!;
      assert.equal(sample.item, original.item);
      assert.equal(sample.series, original.series);
      assert.equal(sample.nodule, original.nodule);
      if (sample.mode === original.mode && sample.origin.join() === original.origin.join()) sameDraws++;
    }
    assert.ok(sameDraws < wrapped.length, 'wrapped samples repeat their originals exactly');
  });
});

describe('planPosition with rank groups', () => {
  /** Every position each rank reads in an epoch of `steps` steps, step by step. */
  function positionsByRank(world: number, batch: number, groups: number, steps: number): number[][] {
    const grouping = { rankGroups: groups, stepsInEpoch: steps };
    return Array.from({ length: world }, (_, rank) =>
      Array.from({ length: steps }, (_, step) =>
        Array.from({ length: batch }, (_, slot) =>
          planPosition({ worldSize: world, batchSize: batch, grouping }, step, rank, slot),
        ),
      ).flat(),
    );
  }

  it('is the ungrouped layout with one group', () => {
    for (const [world, batch, steps] of [
      [1, 1, 3],
      [4, 2, 5],
      [7, 3, 4],
    ] as const) {
      const grouped = positionsByRank(world, batch, 1, steps);
      for (let rank = 0; rank < world; rank++)
        for (let step = 0; step < steps; step++)
          for (let slot = 0; slot < batch; slot++)
            assert.equal(
              grouped[rank]![step * batch + slot],
              (step * world + rank) * batch + slot,
              `rank ${rank} step ${step} slot ${slot}`,
            );
    }
  });

  for (const [world, batch, groups, steps] of [
    [4, 2, 2, 5],
    [5, 3, 2, 4],
    [7, 1, 3, 6],
    [8, 4, 8, 3],
    [256, 2, 3, 2],
  ] as const) {
    it(`covers positions 0..S*W*B-1 exactly once, each group a run of its own (W ${world}, B ${batch}, K ${groups}, S ${steps})`, () => {
      const byRank = positionsByRank(world, batch, groups, steps);
      const all = byRank.flat().sort((a, b) => a - b);
      assert.deepEqual(
        all,
        Array.from({ length: steps * world * batch }, (_, i) => i),
      );
      // The ranks of a group together read one consecutive run of positions, in group order.
      let next = 0;
      for (let group = 0; group < groups; group++) {
        const members = byRank.filter((_, rank) => rank % groups === group);
        const positions = members.flat().sort((a, b) => a - b);
        assert.equal(positions[0], next, `group ${group} starts where group ${group - 1} ended`);
        assert.equal(positions.at(-1), next + positions.length - 1, `group ${group} is contiguous`);
        next += positions.length;
        // Within the group, step by step: step s of all members precedes step s + 1 of any.
        for (let step = 1; step < steps; step++) {
          const last = Math.max(...members.map((p) => p[step * batch - 1]!));
          const first = Math.min(...members.map((p) => p[step * batch]!));
          assert.ok(last < first, `group ${group} step ${step}`);
        }
      }
    });
  }

  it('refuses more groups than ranks, or none, naming the limit', () => {
    for (const rankGroups of [0, 5]) {
      assert.throws(
        () =>
          planPosition({ worldSize: 4, batchSize: 2, grouping: { rankGroups, stepsInEpoch: 3 } }, 0, 0, 0),
        (error: unknown) =>
          error instanceof VoxelfeedError &&
          error.code === 'INVALID_ARGUMENT' &&
          error.message.includes(`rank_groups is ${rankGroups}; expected 1..4`),
      );
    }
  });
});
