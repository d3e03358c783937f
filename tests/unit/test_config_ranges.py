"""``network_vlan_ranges`` and ``vni_ranges``: Neutron's syntax, refused at start-up
with the bad entry named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from neutrino.config import ConfigError, load_settings, parse_vlan_ranges, parse_vni_ranges

NEUTRINO = str(Path(sys.executable).with_name("neutrino"))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for var in ("NEUTRINO_CONFIG", "NEUTRINO_NETWORK_VLAN_RANGES", "NEUTRINO_VNI_RANGES"):
        monkeypatch.delenv(var, raising=False)


def test_seed_001_ranges():
    s = load_settings(network_vlan_ranges="default:100:101,default:200:201",
                      bridge_mappings="default:br-eth1")
    assert s.vlan_ranges() == {"default": [(100, 101), (200, 201)]}
    assert s.physnet_bridges() == {"default": "br-eth1"}


def test_defaults_allow_explicit_vlans_on_physnet1_and_vnis_ovn_never_assigns():
    s = load_settings()
    assert s.vlan_ranges() == {"physnet1": []}
    assert s.vni_range_list() == [(2 ** 24 - 65535, 2 ** 24 - 1)]


def test_physnet_without_range_and_several_physnets():
    assert parse_vlan_ranges(" a , b:1:4094,a:7:7 ") == {"a": [(7, 7)], "b": [(1, 4094)]}
    assert parse_vlan_ranges("") == {}
    assert parse_vni_ranges("1:10, 20:30") == [(1, 10), (20, 30)]


@pytest.mark.parametrize("value, words", [
    ("default:100", "'default:100'"),
    ("default:200:100", "'default:200:100'"),
    ("default:0:10", "0 is not a valid VLAN"),
    ("default:1:4095", "4095 is not a valid VLAN"),
    ("default:a:b", "'default:a:b'"),
    (":1:2", "':1:2'"),
    ("ok:1:2,default:1:2:3", "'default:1:2:3'"),
])
def test_bad_network_vlan_ranges_name_the_entry(value, words):
    with pytest.raises(ConfigError, match="network_vlan_ranges") as exc:
        load_settings(network_vlan_ranges=value)
    assert words in str(exc.value)


@pytest.mark.parametrize("value", ["5", "10:1", "0:5", "1:16777216", "x:y"])
def test_bad_vni_ranges_are_refused(value):
    with pytest.raises(ConfigError, match="vni_ranges"):
        load_settings(vni_ranges=value)


def test_server_and_up_refuse_a_bad_range_from_the_config_file(tmp_path):
    conf = tmp_path / "neutrino.conf"
    conf.write_text("[neutrino]\nnetwork_vlan_ranges = default:100:101,default:201:200\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    for command in ("server", "up"):
        res = subprocess.run([NEUTRINO, command, "--config", str(conf), "--state-dir",
                              str(tmp_path)], capture_output=True, text=True, env=env, timeout=60)
        assert res.returncode == 2, res.stderr
        assert "network_vlan_ranges" in res.stderr and "default:201:200" in res.stderr
        assert not (tmp_path / "runtime.json").exists()
    res = subprocess.run([NEUTRINO, "server", "--state-dir", str(tmp_path)], capture_output=True,
                         text=True, env={**env, "NEUTRINO_NETWORK_VLAN_RANGES": "x:1"}, timeout=60)
    assert res.returncode == 2 and "'x:1'" in res.stderr
