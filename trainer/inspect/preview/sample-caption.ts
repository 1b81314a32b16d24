import type { SampleInfoView } from '@voxelfeed/client';

/** Characters a series uid keeps at each end when shortened. */
const UID_HEAD = 8;
const UID_TAIL = 10;

/**
 * A series uid short enough for a caption: LUNA16 uids share a long root (1.3.6.1.4.1.14519...), so the
 * start says little and the end tells series apart; long ones keep their first 8 and last 10 characters.
 */
export function shortUid(uid: string): string {
  return uid.length <= UID_HEAD + UID_TAIL + 3 ? uid : `${uid.slice(0, UID_HEAD)}...${uid.slice(-UID_TAIL)}`;
}

/**
 * The caption of a sample's row: plan position, series, mode, crop origin, the nodule (index and diameter in
 * voxels) and the crop's foreground voxels, e.g.
 * `#12 1.3.6.1....4656878121 jitter origin 3,10,-4 nodule 1 d 6.2 fg 143`.
 */
export function sampleCaption(info: SampleInfoView, foreground: number): string {
  const nodule = info.nodule < 0 ? 'no nodule' : `nodule ${info.nodule} d ${round1(info.noduleDiameter)}`;
  return `#${info.index} ${shortUid(info.seriesUid)} ${info.mode} origin ${info.origin.join(',')} ${nodule} fg ${foreground}`;
}

function round1(value: number): string {
  return String(Math.round(value * 10) / 10);
}
