/** The server's domain error lives in common/ so the trainer can use it too (trainer never imports server/). */
export {
  isVoxelfeedError,
  VoxelfeedError,
  type VoxelfeedErrorCode,
} from '@voxelfeed/common/voxelfeed-error.js';
