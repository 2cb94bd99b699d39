"""What a query service holds across requests: the loaded index version (swapped live when a new one is
published) and the question-embedding cache."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ingest.store import LoadedIndex, current_version, load_version

log = logging.getLogger("guideground.query")


class IndexHolder:
    """Serves one loaded version; notices a newly published version and swaps it in.

    Requests take a reference with :meth:`get` and keep it for their whole life, so in-flight
    queries finish on the version they started with while new ones see the new version.
    """

    def __init__(self, root: Path, check_every: float = 2.0, expect: tuple[str, int] | None = None) -> None:
        self.root = Path(root)
        self.check_every = check_every
        self.expect = expect
        self._lock = threading.Lock()
        self._index: LoadedIndex = load_version(self.root, expect_embedder=expect)
        self._checked = time.monotonic()

    @property
    def version(self) -> str:
        return self._index.version

    def get(self) -> LoadedIndex:
        if time.monotonic() - self._checked >= self.check_every:
            self.reload_if_changed()
        return self._index

    def reload_if_changed(self) -> bool:
        with self._lock:
            self._checked = time.monotonic()
            cur = current_version(self.root)
            if cur is None or cur == self._index.version:
                return False
            try:
                new = load_version(self.root, cur, expect_embedder=self.expect)
            except Exception as exc:  # keep serving the old version
                log.error("cannot load new index version %s: %s", cur, exc)
                return False
            old = self._index.version
            self._index = new
            log.info("index reloaded: %s → %s", old, cur)
            return True


class QueryCache:
    """The question → embedding cache (least recently used first out; thread-safe; hits and misses counted)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._d: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            v = self._d.get(key)
            if v is not None:
                self._d.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
            return v

    def put(self, key: str, value: np.ndarray) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)
