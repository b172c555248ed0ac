"""`make test` (a plain `pytest`) collects only pyproject's testpaths: a new app's tests must be
listed there, or CI silently never runs them."""

from __future__ import annotations

import tomllib

from core.tests.servers import BASE_DIR


def test_every_test_module_is_under_a_testpath():
    config = tomllib.loads((BASE_DIR / "pyproject.toml").read_text())
    testpaths = config["tool"]["pytest"]["ini_options"]["testpaths"]
    modules = [
        path.relative_to(BASE_DIR)
        for path in BASE_DIR.rglob("test_*.py")
        if not any(part.startswith(".") or part in {"var", "node_modules"} for part in path.relative_to(BASE_DIR).parts)
    ]
    assert modules, "no test module found: the scan is broken"
    outside = [str(module) for module in modules if module.parts[0] not in testpaths]
    assert outside == [], f"not collected by a plain pytest (add their folder to testpaths): {outside}"
