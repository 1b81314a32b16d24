"""The PyTorch losses and Dice give what the TypeScript trainer's give (tfjs-core on its CPU backend) for the
same logits and masks, within float32 rounding."""

import pytest
import torch
from typescript_reference import run_typescript

from voxelfeed.torch.losses import batch_dice, bce_with_logits, dice_bce_loss, foreground_probability, soft_dice_loss

LOSS_SOURCE = """
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { silenceCpuBanner } from './trainer/backend/silence-cpu-banner.ts';
import { foregroundLogit, foregroundProbability } from './trainer/model/foreground.ts';
import { batchDice, bceWithLogits, diceBceLoss, softDiceLoss } from './trainer/model/losses.ts';
await tf.setBackend('cpu');
silenceCpuBanner();
const out = input.map(({ logits, shape, mask }) => tf.tidy(() => {
  const l = tf.tensor(logits, shape, 'float32');
  const y = tf.tensor(mask, shape.slice(0, 4), 'int32');
  const p = foregroundProbability(l);
  const value = (t) => t.dataSync()[0];
  return {
    dice: value(softDiceLoss(p, y)),
    bce: value(bceWithLogits(foregroundLogit(l), y)),
    diceBce: value(diceBceLoss(l, y)),
    batchDice: value(batchDice(p, y)),
  };
}));
console.log(JSON.stringify(out));
"""


def cases():
    generator = torch.Generator().manual_seed(12)
    made = []
    for channels, scale, foreground in [(1, 2.0, 0.3), (2, 2.0, 0.2), (1, 40.0, 0.5), (2, 0.01, 0.0), (1, 3.0, 1.0)]:
        logits = torch.randn(2, channels, 4, 6, 8, generator=generator) * scale
        mask = (torch.rand(2, 4, 6, 8, generator=generator) < foreground).to(torch.uint8)
        made.append((logits, mask))
    return made


def test_losses_and_dice_equal_the_typescript_trainers_within_1e_5():
    made = cases()
    payload = [
        {
            # The TypeScript V-Net is channels last: [B, s0, s1, s2, C].
            "logits": logits.permute(0, 2, 3, 4, 1).reshape(-1).tolist(),
            "shape": [logits.shape[0], *logits.shape[2:], logits.shape[1]],
            "mask": mask.reshape(-1).tolist(),
        }
        for logits, mask in made
    ]
    expected = run_typescript(LOSS_SOURCE, payload)
    for (logits, mask), reference in zip(made, expected):
        p = foreground_probability(logits)
        fg = logits[:, 0] if logits.shape[1] == 1 else logits[:, 1] - logits[:, 0]
        got = {
            "dice": soft_dice_loss(p, mask).item(),
            "bce": bce_with_logits(fg, mask).item(),
            "diceBce": dice_bce_loss(logits, mask).item(),
            "batchDice": batch_dice(p, mask).item(),
        }
        for name, value in reference.items():
            assert got[name] == pytest.approx(value, abs=1e-5, rel=1e-5), (name, logits.shape, got, reference)
    # The cases exercise both heads, an empty mask (Dice 1 when nothing is predicted either) and huge logits.
    assert {logits.shape[1] for logits, _ in made} == {1, 2}
