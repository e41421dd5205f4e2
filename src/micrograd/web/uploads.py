"""CSV files uploaded to the playground, read by `data.load_csv` and kept by content id.

An upload is validated exactly as `micrograd train --data` validates a file (the messages name
the line and column of a bad cell), then against what the page can draw: one or two feature
columns (one only for regression, drawn as a curve) and at most `LIMITS["samples_max"]` rows
(refused, never cut short). Messages name the file as the user called it, not the temporary
copy the server read. The store keeps the most recent uploads only, so memory stays bounded.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from ..data import DataError, Dataset, load_csv
from .messages import LIMITS

__all__ = ["MAX_BYTES", "CsvStore", "UploadError"]

MAX_BYTES = 1_000_000
_KEEP = 64


class UploadError(ValueError):
    """An upload the playground cannot use; the text is shown in the page."""


def _safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip(" .") or "upload"
    return cleaned if cleaned.lower().endswith(".csv") else cleaned + ".csv"


class CsvStore:
    """Uploaded data sets by id (a hash of their bytes); thread-safe; keeps the last 64."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, Dataset] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, content: bytes, filename: str) -> tuple[str, Dataset]:
        """Validate a file's bytes as a data set; return its id and the Dataset."""
        name = _safe_name(filename)
        if len(content) > MAX_BYTES:
            raise UploadError(
                f"{name}: the file has {len(content):,} bytes; the playground takes CSV files "
                f"up to {MAX_BYTES:,} bytes"
            )
        with tempfile.TemporaryDirectory(prefix="micrograd-upload-") as folder:
            path = Path(folder) / name
            path.write_bytes(content)
            try:
                ds = load_csv(path)
            except DataError as e:
                raise UploadError(str(e).replace(str(path), name)) from None
        self._check_drawable(ds, name)
        key = hashlib.sha256(content).hexdigest()[:16]
        with self._lock:
            self._items[key] = ds
            self._items.move_to_end(key)
            while len(self._items) > _KEEP:
                self._items.popitem(last=False)
        return key, ds

    @staticmethod
    def _check_drawable(ds: Dataset, name: str) -> None:
        limit = LIMITS["samples_max"]
        if len(ds) > limit:
            raise UploadError(
                f"{name}: {len(ds):,} rows; the playground trains on at most {limit:,} samples "
                "(use `micrograd train --data` for bigger files)"
            )
        if ds.n_features == 1 and ds.task != "regression":
            raise UploadError(
                f"{name}: one feature column with class labels; the playground draws the input "
                "plane, so a classification file needs two feature columns (a regression "
                "file may have one)"
            )
        if ds.n_features > 2:
            raise UploadError(
                f"{name}: {ds.n_features} feature columns; the playground draws the input "
                "plane, so it takes files with 1 or 2 features and the target last "
                "(use `micrograd train --data` for more)"
            )

    def get(self, key: str) -> Dataset | None:
        with self._lock:
            return self._items.get(key)
