"""``bench/soak.py``'s verdict: when a series counts as flat, when the NB is back."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import soak  # noqa: E402  (bench/soak.py, beside bench/api.py and bench/cloud.py)


def sample(t, rss, fds=40, db=1000, nb=100):
    return {"t": t, "processes": [{"pid": 1, "name": "up", "rss_mb": rss, "fds": fds}],
            "db_bytes": db, "nb_rows": {"ACL": nb}}


def test_flat_series_within_ten_percent():
    f = soak.flatness([200, 205, 198, 207, 203])
    assert f["flat"] and f["spread"] < 0.03 and 0 < f["drift"] < 0.02


@pytest.mark.parametrize("values", [
    [200, 205, 210, 215, 220, 225, 230],  # a steady leak: drift 15%
    [200, 200, 260, 200, 200],            # one spike of 30% over the median
])
def test_leak_or_spike_is_not_flat(values):
    assert not soak.flatness(values)["flat"]


def test_zero_base_counts_any_change():
    assert not soak.flatness([0, 0, 3])["flat"]
    assert soak.flatness([0, 0, 0])["flat"]


def test_verdict_leaves_warmup_out_and_compares_nb_with_baseline():
    samples = [sample(0, 100), sample(60, 150)] + [sample(60 * i, 200 + i) for i in range(2, 8)]
    v = soak.verdict(samples, warmup_s=120, baseline={"ACL": 100, "NAT": 1},
                     final={"ACL": 100, "NAT": 1})
    assert v["rss_mb"]["flat"] and v["nb_back_to_baseline"] and v["ok"]
    assert not soak.verdict(samples, 0, {"ACL": 100}, {"ACL": 100})["rss_mb"]["flat"]
    left = soak.verdict(samples, 120, {"ACL": 100}, {"ACL": 101, "NAT": 1})
    assert not left["ok"] and left["nb_rows_not_back"] == {"ACL": [100, 101], "NAT": [0, 1]}
