"""What scripts/bootstrap.sh promises about the virtualenv."""

import glob
import sysconfig

import pytest


def test_python_ovs_parses_json_in_c_where_debian_ships_the_parser():
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    if not glob.glob(f"/usr/lib/python3/dist-packages/ovs/_json{suffix}"):
        pytest.skip(f"no python3-openvswitch C parser for {suffix} on this machine")
    import ovs.json
    assert ovs.json.PARSER == ovs.json.PARSER_C
    assert ovs.json.from_string('{"a": [1, "é", null]}') == {"a": [1, "é", None]}
