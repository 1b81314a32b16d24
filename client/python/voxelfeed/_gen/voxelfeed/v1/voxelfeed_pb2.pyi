from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

AUGMENTATION_PRESET_NNUNET: AugmentationPreset
AUGMENTATION_PRESET_NONE: AugmentationPreset
CROP_MODE_BACKGROUND: CropMode
CROP_MODE_CENTER: CropMode
CROP_MODE_JITTER: CropMode
CROP_MODE_LABEL: CropMode
CROP_MODE_NEGATIVE: CropMode
CROP_MODE_UNSPECIFIED: CropMode
DESCRIPTOR: _descriptor.FileDescriptor
DTYPE_FLOAT32: DType
DTYPE_UINT8: DType
DTYPE_UNSPECIFIED: DType
SPLIT_PART_ALL: SplitPart
SPLIT_PART_HOLDOUT: SplitPart
SPLIT_PART_TRAIN: SplitPart

class Augmentation(_message.Message):
    __slots__ = ["adjust_contrast_prob", "flip_axes", "flip_prob", "gamma_max", "gamma_min", "gaussian_noise_prob", "gaussian_noise_std", "preset", "rotate90_prob", "scale_intensity_factor", "scale_intensity_prob", "shift_intensity_offset", "shift_intensity_prob"]
    ADJUST_CONTRAST_PROB_FIELD_NUMBER: _ClassVar[int]
    FLIP_AXES_FIELD_NUMBER: _ClassVar[int]
    FLIP_PROB_FIELD_NUMBER: _ClassVar[int]
    GAMMA_MAX_FIELD_NUMBER: _ClassVar[int]
    GAMMA_MIN_FIELD_NUMBER: _ClassVar[int]
    GAUSSIAN_NOISE_PROB_FIELD_NUMBER: _ClassVar[int]
    GAUSSIAN_NOISE_STD_FIELD_NUMBER: _ClassVar[int]
    PRESET_FIELD_NUMBER: _ClassVar[int]
    ROTATE90_PROB_FIELD_NUMBER: _ClassVar[int]
    SCALE_INTENSITY_FACTOR_FIELD_NUMBER: _ClassVar[int]
    SCALE_INTENSITY_PROB_FIELD_NUMBER: _ClassVar[int]
    SHIFT_INTENSITY_OFFSET_FIELD_NUMBER: _ClassVar[int]
    SHIFT_INTENSITY_PROB_FIELD_NUMBER: _ClassVar[int]
    adjust_contrast_prob: float
    flip_axes: _containers.RepeatedScalarFieldContainer[int]
    flip_prob: float
    gamma_max: float
    gamma_min: float
    gaussian_noise_prob: float
    gaussian_noise_std: float
    preset: AugmentationPreset
    rotate90_prob: float
    scale_intensity_factor: float
    scale_intensity_prob: float
    shift_intensity_offset: float
    shift_intensity_prob: float
    def __init__(self, preset: _Optional[_Union[AugmentationPreset, str]] = ..., flip_prob: _Optional[float] = ..., flip_axes: _Optional[_Iterable[int]] = ..., rotate90_prob: _Optional[float] = ..., scale_intensity_prob: _Optional[float] = ..., scale_intensity_factor: _Optional[float] = ..., shift_intensity_prob: _Optional[float] = ..., shift_intensity_offset: _Optional[float] = ..., adjust_contrast_prob: _Optional[float] = ..., gamma_min: _Optional[float] = ..., gamma_max: _Optional[float] = ..., gaussian_noise_prob: _Optional[float] = ..., gaussian_noise_std: _Optional[float] = ...) -> None: ...

class AugmentationInfo(_message.Message):
    __slots__ = ["flipped_axes", "gamma", "noise_seed", "noise_std", "rotate90", "scale", "shift"]
    FLIPPED_AXES_FIELD_NUMBER: _ClassVar[int]
    GAMMA_FIELD_NUMBER: _ClassVar[int]
    NOISE_SEED_FIELD_NUMBER: _ClassVar[int]
    NOISE_STD_FIELD_NUMBER: _ClassVar[int]
    ROTATE90_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    SHIFT_FIELD_NUMBER: _ClassVar[int]
    flipped_axes: _containers.RepeatedScalarFieldContainer[int]
    gamma: float
    noise_seed: int
    noise_std: float
    rotate90: int
    scale: float
    shift: float
    def __init__(self, flipped_axes: _Optional[_Iterable[int]] = ..., rotate90: _Optional[int] = ..., gamma: _Optional[float] = ..., scale: _Optional[float] = ..., shift: _Optional[float] = ..., noise_std: _Optional[float] = ..., noise_seed: _Optional[int] = ...) -> None: ...

class Batch(_message.Message):
    __slots__ = ["dtype", "epoch", "image", "mask", "padding", "rank", "samples", "shape", "shared_memory", "step", "steps_in_epoch", "world_size"]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    PADDING_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    SHARED_MEMORY_FIELD_NUMBER: _ClassVar[int]
    STEPS_IN_EPOCH_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    WORLD_SIZE_FIELD_NUMBER: _ClassVar[int]
    dtype: DType
    epoch: int
    image: bytes
    mask: bytes
    padding: bytes
    rank: int
    samples: _containers.RepeatedCompositeFieldContainer[SampleInfo]
    shape: _containers.RepeatedScalarFieldContainer[int]
    shared_memory: SharedMemoryBatch
    step: int
    steps_in_epoch: int
    world_size: int
    def __init__(self, epoch: _Optional[int] = ..., step: _Optional[int] = ..., steps_in_epoch: _Optional[int] = ..., shape: _Optional[_Iterable[int]] = ..., dtype: _Optional[_Union[DType, str]] = ..., image: _Optional[bytes] = ..., mask: _Optional[bytes] = ..., samples: _Optional[_Iterable[_Union[SampleInfo, _Mapping]]] = ..., rank: _Optional[int] = ..., world_size: _Optional[int] = ..., shared_memory: _Optional[_Union[SharedMemoryBatch, _Mapping]] = ..., padding: _Optional[bytes] = ...) -> None: ...

class DataSplit(_message.Message):
    __slots__ = ["holdout_fraction", "part"]
    HOLDOUT_FRACTION_FIELD_NUMBER: _ClassVar[int]
    PART_FIELD_NUMBER: _ClassVar[int]
    holdout_fraction: float
    part: SplitPart
    def __init__(self, holdout_fraction: _Optional[float] = ..., part: _Optional[_Union[SplitPart, str]] = ...) -> None: ...

class DatasetInfo(_message.Message):
    __slots__ = ["dataset", "default_items_per_epoch", "fingerprint", "max_crop_voxels", "nodules", "series", "series_info", "skipped_series"]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_ITEMS_PER_EPOCH_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    MAX_CROP_VOXELS_FIELD_NUMBER: _ClassVar[int]
    NODULES_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    SERIES_INFO_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_SERIES_FIELD_NUMBER: _ClassVar[int]
    dataset: str
    default_items_per_epoch: int
    fingerprint: str
    max_crop_voxels: int
    nodules: int
    series: int
    series_info: _containers.RepeatedCompositeFieldContainer[SeriesInfo]
    skipped_series: int
    def __init__(self, dataset: _Optional[str] = ..., series: _Optional[int] = ..., nodules: _Optional[int] = ..., fingerprint: _Optional[str] = ..., skipped_series: _Optional[int] = ..., series_info: _Optional[_Iterable[_Union[SeriesInfo, _Mapping]]] = ..., max_crop_voxels: _Optional[int] = ..., default_items_per_epoch: _Optional[int] = ...) -> None: ...

class GetDatasetInfoRequest(_message.Message):
    __slots__ = ["dataset"]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    dataset: str
    def __init__(self, dataset: _Optional[str] = ...) -> None: ...

class GetSampleRequest(_message.Message):
    __slots__ = ["crop_size", "dataset", "dtype", "epoch", "include_mask", "index", "sampling", "seed", "split"]
    CROP_SIZE_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_MASK_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    crop_size: _containers.RepeatedScalarFieldContainer[int]
    dataset: str
    dtype: DType
    epoch: int
    include_mask: bool
    index: int
    sampling: SamplingOptions
    seed: int
    split: DataSplit
    def __init__(self, dataset: _Optional[str] = ..., seed: _Optional[int] = ..., epoch: _Optional[int] = ..., index: _Optional[int] = ..., crop_size: _Optional[_Iterable[int]] = ..., sampling: _Optional[_Union[SamplingOptions, _Mapping]] = ..., dtype: _Optional[_Union[DType, str]] = ..., include_mask: bool = ..., split: _Optional[_Union[DataSplit, _Mapping]] = ...) -> None: ...

class ReleaseSharedBatchesRequest(_message.Message):
    __slots__ = ["ids", "path"]
    IDS_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[int]
    path: str
    def __init__(self, path: _Optional[str] = ..., ids: _Optional[_Iterable[int]] = ...) -> None: ...

class ReleaseSharedBatchesResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ReportTrainerStatsResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class SampleInfo(_message.Message):
    __slots__ = ["augmentation", "background_draws", "background_missed", "foreground_voxels", "index", "item", "label", "mode", "nodule", "nodule_center", "nodule_diameter", "origin", "series_uid"]
    AUGMENTATION_FIELD_NUMBER: _ClassVar[int]
    BACKGROUND_DRAWS_FIELD_NUMBER: _ClassVar[int]
    BACKGROUND_MISSED_FIELD_NUMBER: _ClassVar[int]
    FOREGROUND_VOXELS_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    NODULE_CENTER_FIELD_NUMBER: _ClassVar[int]
    NODULE_DIAMETER_FIELD_NUMBER: _ClassVar[int]
    NODULE_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    SERIES_UID_FIELD_NUMBER: _ClassVar[int]
    augmentation: AugmentationInfo
    background_draws: int
    background_missed: bool
    foreground_voxels: int
    index: int
    item: int
    label: int
    mode: CropMode
    nodule: int
    nodule_center: _containers.RepeatedScalarFieldContainer[float]
    nodule_diameter: float
    origin: _containers.RepeatedScalarFieldContainer[int]
    series_uid: str
    def __init__(self, index: _Optional[int] = ..., series_uid: _Optional[str] = ..., mode: _Optional[_Union[CropMode, str]] = ..., origin: _Optional[_Iterable[int]] = ..., nodule: _Optional[int] = ..., nodule_center: _Optional[_Iterable[float]] = ..., nodule_diameter: _Optional[float] = ..., item: _Optional[int] = ..., foreground_voxels: _Optional[int] = ..., augmentation: _Optional[_Union[AugmentationInfo, _Mapping]] = ..., background_draws: _Optional[int] = ..., background_missed: bool = ..., label: _Optional[int] = ...) -> None: ...

class SamplingOptions(_message.Message):
    __slots__ = ["augmentation", "avoid_foreground", "background_max_draws", "center_prob", "foreground_share", "jitter_prob", "keep_labels", "label_ratios", "negative_prob", "negatives_per_epoch", "pad_value", "samples_per_nodule", "shuffle_window"]
    AUGMENTATION_FIELD_NUMBER: _ClassVar[int]
    AVOID_FOREGROUND_FIELD_NUMBER: _ClassVar[int]
    BACKGROUND_MAX_DRAWS_FIELD_NUMBER: _ClassVar[int]
    CENTER_PROB_FIELD_NUMBER: _ClassVar[int]
    FOREGROUND_SHARE_FIELD_NUMBER: _ClassVar[int]
    JITTER_PROB_FIELD_NUMBER: _ClassVar[int]
    KEEP_LABELS_FIELD_NUMBER: _ClassVar[int]
    LABEL_RATIOS_FIELD_NUMBER: _ClassVar[int]
    NEGATIVES_PER_EPOCH_FIELD_NUMBER: _ClassVar[int]
    NEGATIVE_PROB_FIELD_NUMBER: _ClassVar[int]
    PAD_VALUE_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_PER_NODULE_FIELD_NUMBER: _ClassVar[int]
    SHUFFLE_WINDOW_FIELD_NUMBER: _ClassVar[int]
    augmentation: Augmentation
    avoid_foreground: bool
    background_max_draws: int
    center_prob: float
    foreground_share: float
    jitter_prob: float
    keep_labels: bool
    label_ratios: _containers.RepeatedScalarFieldContainer[float]
    negative_prob: float
    negatives_per_epoch: int
    pad_value: float
    samples_per_nodule: int
    shuffle_window: int
    def __init__(self, jitter_prob: _Optional[float] = ..., negative_prob: _Optional[float] = ..., center_prob: _Optional[float] = ..., samples_per_nodule: _Optional[int] = ..., negatives_per_epoch: _Optional[int] = ..., pad_value: _Optional[float] = ..., shuffle_window: _Optional[int] = ..., augmentation: _Optional[_Union[Augmentation, _Mapping]] = ..., avoid_foreground: bool = ..., background_max_draws: _Optional[int] = ..., foreground_share: _Optional[float] = ..., keep_labels: bool = ..., label_ratios: _Optional[_Iterable[float]] = ...) -> None: ...

class SeriesInfo(_message.Message):
    __slots__ = ["nodules", "series_uid", "shape"]
    NODULES_FIELD_NUMBER: _ClassVar[int]
    SERIES_UID_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    nodules: int
    series_uid: str
    shape: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, series_uid: _Optional[str] = ..., shape: _Optional[_Iterable[int]] = ..., nodules: _Optional[int] = ...) -> None: ...

class SharedMemoryBatch(_message.Message):
    __slots__ = ["id", "image_length", "image_offset", "length", "mask_length", "mask_offset", "offset", "path"]
    ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    IMAGE_OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    MASK_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MASK_OFFSET_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    id: int
    image_length: int
    image_offset: int
    length: int
    mask_length: int
    mask_offset: int
    offset: int
    path: str
    def __init__(self, path: _Optional[str] = ..., id: _Optional[int] = ..., offset: _Optional[int] = ..., length: _Optional[int] = ..., image_offset: _Optional[int] = ..., image_length: _Optional[int] = ..., mask_offset: _Optional[int] = ..., mask_length: _Optional[int] = ...) -> None: ...

class SharedMemoryRequest(_message.Message):
    __slots__ = ["probe_path", "probe_token"]
    PROBE_PATH_FIELD_NUMBER: _ClassVar[int]
    PROBE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    probe_path: str
    probe_token: str
    def __init__(self, probe_path: _Optional[str] = ..., probe_token: _Optional[str] = ...) -> None: ...

class StreamBatchesRequest(_message.Message):
    __slots__ = ["batch_size", "crop_size", "dataset", "dtype", "epoch", "include_mask", "max_steps", "rank", "rank_groups", "sampling", "seed", "shared_memory", "split", "start_step", "step_stride", "world_size"]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    CROP_SIZE_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_MASK_FIELD_NUMBER: _ClassVar[int]
    MAX_STEPS_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    RANK_GROUPS_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    SHARED_MEMORY_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    START_STEP_FIELD_NUMBER: _ClassVar[int]
    STEP_STRIDE_FIELD_NUMBER: _ClassVar[int]
    WORLD_SIZE_FIELD_NUMBER: _ClassVar[int]
    batch_size: int
    crop_size: _containers.RepeatedScalarFieldContainer[int]
    dataset: str
    dtype: DType
    epoch: int
    include_mask: bool
    max_steps: int
    rank: int
    rank_groups: int
    sampling: SamplingOptions
    seed: int
    shared_memory: SharedMemoryRequest
    split: DataSplit
    start_step: int
    step_stride: int
    world_size: int
    def __init__(self, dataset: _Optional[str] = ..., seed: _Optional[int] = ..., epoch: _Optional[int] = ..., rank: _Optional[int] = ..., world_size: _Optional[int] = ..., batch_size: _Optional[int] = ..., crop_size: _Optional[_Iterable[int]] = ..., sampling: _Optional[_Union[SamplingOptions, _Mapping]] = ..., dtype: _Optional[_Union[DType, str]] = ..., include_mask: bool = ..., start_step: _Optional[int] = ..., max_steps: _Optional[int] = ..., split: _Optional[_Union[DataSplit, _Mapping]] = ..., rank_groups: _Optional[int] = ..., step_stride: _Optional[int] = ..., shared_memory: _Optional[_Union[SharedMemoryRequest, _Mapping]] = ...) -> None: ...

class StreamTilesRequest(_message.Message):
    __slots__ = ["batch_size", "dataset", "dtype", "include_mask", "overlap", "pad_value", "series_uids", "split", "start_series", "start_tile", "tile_size"]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_MASK_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_FIELD_NUMBER: _ClassVar[int]
    PAD_VALUE_FIELD_NUMBER: _ClassVar[int]
    SERIES_UIDS_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    START_SERIES_FIELD_NUMBER: _ClassVar[int]
    START_TILE_FIELD_NUMBER: _ClassVar[int]
    TILE_SIZE_FIELD_NUMBER: _ClassVar[int]
    batch_size: int
    dataset: str
    dtype: DType
    include_mask: bool
    overlap: _containers.RepeatedScalarFieldContainer[float]
    pad_value: float
    series_uids: _containers.RepeatedScalarFieldContainer[str]
    split: DataSplit
    start_series: int
    start_tile: int
    tile_size: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, dataset: _Optional[str] = ..., series_uids: _Optional[_Iterable[str]] = ..., split: _Optional[_Union[DataSplit, _Mapping]] = ..., tile_size: _Optional[_Iterable[int]] = ..., overlap: _Optional[_Iterable[float]] = ..., batch_size: _Optional[int] = ..., dtype: _Optional[_Union[DType, str]] = ..., include_mask: bool = ..., pad_value: _Optional[float] = ..., start_series: _Optional[int] = ..., start_tile: _Optional[int] = ...) -> None: ...

class TileBatch(_message.Message):
    __slots__ = ["dtype", "first_tile", "grid", "image", "mask", "origins", "padding", "series_count", "series_index", "series_uid", "shape", "spacing", "tiles_in_series", "volume_shape"]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    FIRST_TILE_FIELD_NUMBER: _ClassVar[int]
    GRID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    ORIGINS_FIELD_NUMBER: _ClassVar[int]
    PADDING_FIELD_NUMBER: _ClassVar[int]
    SERIES_COUNT_FIELD_NUMBER: _ClassVar[int]
    SERIES_INDEX_FIELD_NUMBER: _ClassVar[int]
    SERIES_UID_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    SPACING_FIELD_NUMBER: _ClassVar[int]
    TILES_IN_SERIES_FIELD_NUMBER: _ClassVar[int]
    VOLUME_SHAPE_FIELD_NUMBER: _ClassVar[int]
    dtype: DType
    first_tile: int
    grid: _containers.RepeatedScalarFieldContainer[int]
    image: bytes
    mask: bytes
    origins: _containers.RepeatedScalarFieldContainer[int]
    padding: bytes
    series_count: int
    series_index: int
    series_uid: str
    shape: _containers.RepeatedScalarFieldContainer[int]
    spacing: _containers.RepeatedScalarFieldContainer[float]
    tiles_in_series: int
    volume_shape: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, series_uid: _Optional[str] = ..., series_index: _Optional[int] = ..., series_count: _Optional[int] = ..., volume_shape: _Optional[_Iterable[int]] = ..., grid: _Optional[_Iterable[int]] = ..., first_tile: _Optional[int] = ..., tiles_in_series: _Optional[int] = ..., shape: _Optional[_Iterable[int]] = ..., dtype: _Optional[_Union[DType, str]] = ..., image: _Optional[bytes] = ..., mask: _Optional[bytes] = ..., origins: _Optional[_Iterable[int]] = ..., spacing: _Optional[_Iterable[float]] = ..., padding: _Optional[bytes] = ...) -> None: ...

class TrainerStats(_message.Message):
    __slots__ = ["backend", "data_wait_seconds", "epoch", "gpu_idle_seconds", "job", "loss", "rank", "samples", "step", "step_seconds", "world_size"]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    DATA_WAIT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    GPU_IDLE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    STEP_SECONDS_FIELD_NUMBER: _ClassVar[int]
    WORLD_SIZE_FIELD_NUMBER: _ClassVar[int]
    backend: str
    data_wait_seconds: float
    epoch: int
    gpu_idle_seconds: float
    job: str
    loss: float
    rank: int
    samples: int
    step: int
    step_seconds: float
    world_size: int
    def __init__(self, job: _Optional[str] = ..., rank: _Optional[int] = ..., world_size: _Optional[int] = ..., step: _Optional[int] = ..., gpu_idle_seconds: _Optional[float] = ..., step_seconds: _Optional[float] = ..., data_wait_seconds: _Optional[float] = ..., samples: _Optional[int] = ..., epoch: _Optional[int] = ..., loss: _Optional[float] = ..., backend: _Optional[str] = ...) -> None: ...

class DType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class CropMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class AugmentationPreset(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class SplitPart(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
