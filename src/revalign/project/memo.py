"""Results of the non-KPI analytics (forecast, audit, SLA concentration, …) kept per data version.

KPIs are cached per data version and definition (:mod:`revalign.kpis.cache`, the KPI store); the analytics the
dashboard pages call beside them (the quarter landing, who games credit, who breaches the SLA) were computed
again on every report, so an overview asked for another period repeated seconds of work on unchanged data. They
are cached here the same way: the key holds the data version (any load, append or correction moves it) and the
definitions fingerprint of the project (settings, the agreement sign-off counted, and the definition files of the
folder: an edited ``agreements/`` or ``revalign.yaml`` moves it), so a stale result is never served.

What depends on the definitions alone (the agreement versions, validated: tens of milliseconds of schema and
rule checks, the time-zone rule reading the system's zone list each time) is cached by :func:`per_definitions`,
keyed by the definitions fingerprint only: a page that reads the agreements on every request (the SLA and
agreements pages read the sign-off per request) then pays a lookup, and an edited file is read again.

In the library, not the server: the CLI's ``demo``, a notebook and every server page share one computation. A
result is handed out as a deep copy, so a caller that edits its frame cannot change what the next caller gets.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, ParamSpec, TypeVar

from revalign.project.base import ProjectBase

P = ParamSpec("P")
T = TypeVar("T")


class AnalyticsMemo:
    """A small thread-safe LRU of analytic results by key (see the module docstring for what the key holds)."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A copy of the result under ``key``, computing and keeping it first when absent.

        Not single-flight: two threads asking at once both compute (the server already serialises computations
        on its engine lock, and a notebook asks one at a time).
        """
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return copy.deepcopy(self._data[key])
        value = compute()
        with self._lock:
            self.misses += 1
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)
        return copy.deepcopy(value)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)


ANALYTICS = AnalyticsMemo()
"""The process-wide memo of analytic results (keys hold the project folder, engine, data and definition versions)."""


def _frozen(value: Any) -> Hashable:
    """``value`` as a hashable key part (lists and sets of names become tuples); TypeError if it cannot be."""
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, set | frozenset):
        return frozenset(_frozen(v) for v in value)
    hash(value)
    return value


def _call_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable:
    """The arguments after the project as a key part; TypeError when one cannot be part of a key."""
    return (_frozen(args[1:]), _frozen(tuple(sorted(kwargs.items()))))


def _project_of(method: Callable[..., Any], args: tuple[Any, ...]) -> ProjectBase:
    project = args[0]
    if not isinstance(project, ProjectBase):
        raise TypeError(f"{method.__qualname__} caches per project: call it on a Project, not {project!r}")
    return project


def _memoized(method: Callable[P, T], scope: Callable[[ProjectBase], tuple[Any, ...]]) -> Callable[P, T]:
    """``method`` cached in :data:`ANALYTICS` under its name, its project's folder, ``scope(project)`` and its
    arguments. Arguments that cannot be part of a key (a DataFrame of findings, a callback) skip the cache: the
    call is then computed as before."""

    @functools.wraps(method)
    def cached(*args: P.args, **kwargs: P.kwargs) -> T:
        project = _project_of(method, args)
        try:
            call = _call_key(args, kwargs)
        except TypeError:
            return method(*args, **kwargs)
        key = (method.__qualname__, str(project.folder), *scope(project), call)
        return ANALYTICS.get_or_compute(key, lambda: method(*args, **kwargs))

    return cached


def per_definitions(method: Callable[P, T]) -> Callable[P, T]:
    """Cache a :class:`ProjectBase` method that reads definitions only (no data), per definitions fingerprint:
    no query is run to build the key (reading the data version is one)."""
    return _memoized(method, lambda project: (project.definitions_fingerprint(),))


def per_data_version(method: Callable[P, T]) -> Callable[P, T]:
    """Cache a :class:`ProjectBase` method's result per engine, data version and definitions fingerprint."""
    return _memoized(
        method,
        lambda project: (project.engine.url, project.tables.data_version(), project.definitions_fingerprint()),
    )


__all__ = ["ANALYTICS", "AnalyticsMemo", "per_data_version", "per_definitions"]
