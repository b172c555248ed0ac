"""`.env.example` lists exactly the variables the app reads: every one settings reads, every one
the Procfile's processes read, and nothing else (a variable nobody reads misleads an operator)."""

from __future__ import annotations

import ast
import re

from django.conf import settings

ENV_HELPERS = {"env_str", "env_bool", "env_int", "env_float", "env_list"}


def _example_names() -> set[str]:
    text = (settings.BASE_DIR / ".env.example").read_text()
    return set(re.findall(r"^# ?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def _settings_names() -> set[str]:
    tree = ast.parse((settings.BASE_DIR / "config" / "settings.py").read_text())
    names = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ENV_HELPERS
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    return names | {"DATABASE_URL"}  # read by dj_database_url.config()


def _procfile_names() -> set[str]:
    return set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", (settings.BASE_DIR / "Procfile").read_text()))


def test_the_scan_finds_what_it_should():
    assert {"SECRET_KEY", "REDIS_URL", "PORT", "DATABASE_URL"} <= _settings_names()
    assert {"PORT", "WS_PORT"} <= _procfile_names()


def test_env_example_lists_exactly_what_is_read():
    example, read = _example_names(), _settings_names() | _procfile_names()
    assert read - example == set(), "read but not in .env.example"
    assert example - read == set(), "in .env.example but read by nothing"
