"""Settings are read in one place, and the documented table (docs/settings.md) is that place's table."""

import pytest

from slr_core.base import settings
from slr_core.base.errors import ConfigError, SLRError

from .conftest import REPO


def test_docs_show_the_settings_table():
    assert settings.settings_table() in (REPO / "docs" / "settings.md").read_text()


def test_every_setting_read_in_slr_core_is_in_the_table():
    import re

    names = {s.name for s in settings.SETTINGS}
    used = set()
    for path in [*(REPO / "slr_core").rglob("*.py"), *(REPO / "app_pages").glob("*.py"), REPO / "app.py"]:
        used |= set(re.findall(r"\bSLR_[A-Z0-9_]+\b", path.read_text()))
    assert used <= names, used - names
    with pytest.raises(KeyError):
        settings.raw("SLR_NOT_A_SETTING")


def test_torch_threads(monkeypatch):
    monkeypatch.delenv("SLR_TORCH_THREADS", raising=False)
    monkeypatch.setattr(settings.os, "cpu_count", lambda: 16)
    assert settings.torch_threads() == 8
    monkeypatch.setattr(settings.os, "cpu_count", lambda: 1)
    assert settings.torch_threads() == 1
    monkeypatch.setenv("SLR_TORCH_THREADS", "3")
    assert settings.torch_threads() == 3
    for bad in ("0", "many"):
        monkeypatch.setenv("SLR_TORCH_THREADS", bad)
        with pytest.raises(ConfigError, match="SLR_TORCH_THREADS"):
            settings.torch_threads()


def test_folders_and_servers(monkeypatch, tmp_path):
    monkeypatch.setenv("SLR_DATA_DIRS", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    assert settings.data_dirs() == [tmp_path / "a", tmp_path / "b"]
    monkeypatch.setenv("SLR_MODELS_DIR", str(tmp_path))
    monkeypatch.delenv("SLR_DEFAULT_MODEL", raising=False)
    assert settings.default_model() == tmp_path / settings.DEFAULT_MODEL_NAME
    monkeypatch.setenv("SLR_ICE_SERVERS", "stun:a.org:3478, stun:b.org")
    assert settings.ice_servers() == [{"urls": ["stun:a.org:3478", "stun:b.org"]}]
    monkeypatch.setenv("SLR_ICE_SERVERS", '[{"urls": ["turn:t.org"], "username": "u"}]')
    assert settings.ice_servers()[0]["username"] == "u"
    monkeypatch.setenv("SLR_ICE_SERVERS", "[oops")
    with pytest.raises(SLRError, match="not valid JSON"):
        settings.ice_servers()
