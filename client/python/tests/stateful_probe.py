"""What torchdata's StatefulDataLoader does with a dataset's state_dict / load_state_dict, for tests without it:
each DataLoader worker reports its dataset copy's state with every item, and a resumed loader hands each
worker its own state back before the worker iterates (torchdata does both internally)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch.utils.data import IterableDataset, get_worker_info


class StatefulProbe(IterableDataset):
    """Yields (item, the dataset copy's state after it)."""

    def __init__(self, dataset):
        super().__init__()
        self.dataset = dataset

    def __iter__(self):
        for item in self.dataset:
            yield item, self.dataset.state_dict()


def load_worker_states(states: Mapping[int, Any], worker_id: int) -> None:
    """A worker_init_fn (bind `states` with functools.partial): worker w loads states[w]."""
    info = get_worker_info()
    if worker_id in states:
        info.dataset.dataset.load_state_dict(states[worker_id])
