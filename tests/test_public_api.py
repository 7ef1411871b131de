"""``revalign.__all__`` is the public surface: every name resolves, and nothing public is left out."""

from __future__ import annotations

import revalign


def test_all_names_resolve():
    for name in revalign.__all__:
        assert hasattr(revalign, name), name


def test_all_lists_every_public_attribute():
    public = {n for n in dir(revalign) if not n.startswith("_")}  # dir: the façade is imported lazily
    modules = {n for n in public if type(getattr(revalign, n)).__name__ == "module"}
    assert public - modules - {"annotations"} == set(revalign.__all__) - {"__version__"}
