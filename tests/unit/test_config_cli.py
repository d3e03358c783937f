"""Settings sources and the command line's start-up checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from neutrino.config import ConfigError, load_settings

NEUTRINO = str(Path(sys.executable).with_name("neutrino"))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for var in ("NEUTRINO_CONFIG", "NEUTRINO_STATE_DIR", "NEUTRINO_PORT", "NEUTRINO_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)


def test_defaults():
    s = load_settings()
    assert (s.host, s.port, s.workers) == ("127.0.0.1", 9696, 1)
    assert s.database_url == "sqlite:////var/lib/neutrino/neutrino.db"
    assert s.base_mac == "fa:16:3e:00:00:00"


def test_file_then_env_then_flags(tmp_path, monkeypatch):
    conf = tmp_path / "neutrino.conf"
    conf.write_text("[DEFAULT]\nport = 1111\nworkers = 3\n[neutrino]\nstate_dir = /srv/n\n")
    monkeypatch.setenv("NEUTRINO_PORT", "2222")
    s = load_settings(str(conf), host="0.0.0.0")
    assert (s.port, s.workers, s.host, str(s.state_dir)) == (2222, 3, "0.0.0.0", "/srv/n")
    assert s.database_url == "sqlite:////srv/n/neutrino.db"
    assert load_settings(str(conf), port=3333).port == 3333


@pytest.mark.parametrize("flags, name", [
    ({"port": 70000}, "port"), ({"workers": 0}, "workers"), ({"base_mac": "01:00:00:00:00:00"}, "base_mac"),
    ({"database_url": "mysql://x"}, "database_url"),
])
def test_bad_setting_is_named(flags, name):
    with pytest.raises(ConfigError, match=name):
        load_settings(**flags)


def test_unknown_key_in_file_is_named(tmp_path):
    conf = tmp_path / "neutrino.conf"
    conf.write_text("[DEFAULT]\nprot = 1\n")
    with pytest.raises(ConfigError, match="prot"):
        load_settings(str(conf))


def test_server_refuses_unmigrated_database_and_bad_settings(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    res = subprocess.run([NEUTRINO, "server", "--state-dir", str(tmp_path), "--port", "1"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 1 and "neutrino db upgrade" in res.stderr
    res = subprocess.run([NEUTRINO, "server", "--state-dir", str(tmp_path), "--port", "99999"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 2 and "port" in res.stderr
    res = subprocess.run([NEUTRINO, "db", "upgrade", "--state-dir", str(tmp_path)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 0 and (tmp_path / "neutrino.db").exists()
