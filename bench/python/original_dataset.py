"""The original pipeline's `Dataset` (`myDataset_v3`, the third version of the blog post that started voxelfeed),
rebuilt for the benchmark, and the same class with `functools.lru_cache` on its volume loading.

Kept as the post wrote it wherever it costs time: one item per nodule listed from every `_bboxes.npy` in
`__init__`; per item the whole image and mask are read and inflated again (no cache), the image is transposed
(0, 2, 1) and divided by 255.0 into a float64 volume, the mask's values above 1 are set to 1, the bbox's y and x
are swapped by hand to match the transpose, a crop corner is drawn with the post's rule (`rd > 0.5`: near the
nodule with `leftTop_ratio` 0.3; `rd > 0.1`: anywhere; else the nodule at z - crop_z // 3, y - crop_y // 2,
x - crop_x // 2), the crop is zero-padded with `np.pad` when it runs past the edge, and returned as float32
`[1, s0, s1, s2]` and int64 `[s0, s1, s2]` tensors. Randomness comes from the global `random` module, which
the DataLoader seeds in each worker.

Only two things differ: `nrrd.read` (pynrrd, not installed here) is `read_nrrd`, which does the same work for
gzip NRRD files; and the branch for `LKDS` files (`np.load`), which never runs on these files, is left out.
"""

from __future__ import annotations

import functools
import os
import random

import numpy as np
import torch
from nrrd_read import read_nrrd
from torch.utils.data import Dataset


class myDataset_v3(Dataset):  # noqa: N801 (the original's name)
    def __init__(self, data_dir, crop_size=(16, 96, 96), isTrain=False):  # noqa: N803
        self.dataFile_path_bboxes = []
        for file in os.listdir(data_dir):
            if "_bboxes.npy" in file:
                one_path_bbox_list = self.getBboxes(os.path.join(data_dir, file))
                self.dataFile_path_bboxes.extend(one_path_bbox_list)
        self.crop_size = crop_size
        self.crop_size_z, self.crop_size_h, self.crop_size_w = crop_size
        self.isTrain = isTrain

    def __getitem__(self, index):
        bbox_path, zyx_centerCoor = self.dataFile_path_bboxes[index]
        img_path = bbox_path.replace("_bboxes.npy", "_clean.nrrd")
        label_path = bbox_path.replace("_bboxes.npy", "_mask.nrrd")
        img, img_shape = self.load_img(img_path)
        label = self.load_mask(label_path)
        cutMin_list = self.getCenterScope(img_shape, zyx_centerCoor)
        if self.isTrain:
            rd = random.random()
            if rd > 0.5:
                cut_list = [
                    cutMin_list[0],
                    cutMin_list[0] + self.crop_size_z,
                    cutMin_list[1],
                    cutMin_list[1] + self.crop_size_h,
                    cutMin_list[2],
                    cutMin_list[2] + self.crop_size_w,
                ]  ### z,y,x
                start1, start2, start3 = self.random_crop_around_nodule(
                    img_shape, cut_list, crop_size=self.crop_size, leftTop_ratio=0.3
                )
            elif rd > 0.1:
                start1, start2, start3 = self.random_crop_negative_nodule(img_shape, crop_size=self.crop_size)
            else:
                start1, start2, start3 = cutMin_list
        else:
            start1, start2, start3 = cutMin_list
        img_crop = img[
            start1 : start1 + self.crop_size_z,
            start2 : start2 + self.crop_size_h,
            start3 : start3 + self.crop_size_w,
        ]
        label_crop = label[
            start1 : start1 + self.crop_size_z,
            start2 : start2 + self.crop_size_h,
            start3 : start3 + self.crop_size_w,
        ]
        if img_crop.shape != self.crop_size:
            pad_width = [
                (0, self.crop_size_z - img_crop.shape[0]),
                (0, self.crop_size_h - img_crop.shape[1]),
                (0, self.crop_size_w - img_crop.shape[2]),
            ]
            img_crop = np.pad(img_crop, pad_width, mode="constant", constant_values=0)
        if label_crop.shape != self.crop_size:
            pad_width = [
                (0, self.crop_size_z - label_crop.shape[0]),
                (0, self.crop_size_h - label_crop.shape[1]),
                (0, self.crop_size_w - label_crop.shape[2]),
            ]
            label_crop = np.pad(label_crop, pad_width, mode="constant", constant_values=0)
        img_crop = np.expand_dims(img_crop, 0)  # (1, 16, 96, 96)
        img_crop = torch.from_numpy(img_crop).float()
        label_crop = torch.from_numpy(label_crop).long()  # (16, 96, 96)
        return img_crop, label_crop

    def __len__(self):
        return len(self.dataFile_path_bboxes)

    def load_img(self, path_to_img):
        img, _ = read_nrrd(path_to_img)
        img = img.transpose((0, 2, 1))  # matches the swap of the bbox's y and x
        return img / 255.0, img.shape

    def load_mask(self, path_to_mask):
        mask, _ = read_nrrd(path_to_mask)
        mask[mask > 1] = 1
        mask = mask.transpose((0, 2, 1))
        return mask

    def getBboxes(self, bboxFile_path):  # noqa: N802, N803
        bboxes_array = np.load(bboxFile_path, allow_pickle=True)
        bboxes_list = bboxes_array.tolist()
        one_path_bbox_list = []
        for zyx in bboxes_list:
            xyz = [zyx[0], zyx[2], zyx[1]]
            one_path_bbox_list.append([bboxFile_path, xyz])
        return one_path_bbox_list

    def getCenterScope(self, img_shape, zyx_centerCoor):  # noqa: N802, N803
        img_z, img_y, img_x = img_shape
        zc, yc, xc = zyx_centerCoor
        # The post subtracts a third of the crop depth on z (a half looked "too low"), without knowing why.
        zmin = max(0, zc - self.crop_size_z // 3)
        ymin = max(0, yc - self.crop_size_h // 2)
        xmin = max(0, xc - self.crop_size_w // 2)
        cutMin_list = [int(zmin), int(ymin), int(xmin)]
        return cutMin_list

    def random_crop_around_nodule(self, img_shape, cut_list, crop_size=(16, 96, 96), leftTop_ratio=0.3):  # noqa: N803
        img_z, img_y, img_x = img_shape
        crop_z, crop_y, crop_x = crop_size
        z_min, z_max, y_min, y_max, x_min, x_max = cut_list
        # As in the post: each max is computed from the min just updated.
        z_min = max(0, int(z_min - crop_z * leftTop_ratio))
        z_max = min(img_z, int(z_min + crop_z * leftTop_ratio))
        y_min = max(0, int(y_min - crop_y * leftTop_ratio))
        y_max = min(img_y, int(y_min + crop_y * leftTop_ratio))
        x_min = max(0, int(x_min - crop_x * leftTop_ratio))
        x_max = min(img_x, int(x_min + crop_x * leftTop_ratio))
        z_start = random.randint(z_min, z_max)
        y_start = random.randint(y_min, y_max)
        x_start = random.randint(x_min, x_max)
        return z_start, y_start, x_start

    def random_crop_negative_nodule(self, img_shape, crop_size=(16, 96, 96), boundary_ratio=0.5):
        img_z, img_y, img_x = img_shape
        crop_z, crop_y, crop_x = crop_size
        z_min = 0
        z_max = img_z - crop_z
        y_min = 0
        y_max = img_y - crop_y
        x_min = 0
        x_max = img_x - crop_x
        z_start = random.randint(z_min, z_max)
        y_start = random.randint(y_min, y_max)
        x_start = random.randint(x_min, x_max)
        return z_start, y_start, x_start


class CachedDataset(myDataset_v3):
    """The same Dataset with the usual first fix: `functools.lru_cache` on the volume loading, so each
    DataLoader worker reads and decodes each file once and keeps it (its own copy, for as long as the worker
    lives: hence `persistent_workers=True` beside it)."""

    @functools.lru_cache(maxsize=128)  # noqa: B019 (one dataset object per worker, kept for the run)
    def load_img(self, path_to_img):
        return super().load_img(path_to_img)

    @functools.lru_cache(maxsize=128)  # noqa: B019
    def load_mask(self, path_to_mask):
        return super().load_mask(path_to_mask)
