"""Smoke test of benchmarks/reproduce_selection.py in --quick mode on a small synthetic graph
(a relaxed caveman graph written to tmp_path), so CI needs neither ego-Facebook nor minutes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

pytestmark = pytest.mark.unit

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "reproduce_selection.py"


def test_quick_reproduction_writes_json_and_png(tmp_path: Path) -> None:
    graph = nx.relaxed_caveman_graph(12, 8, 0.1, seed=1)  # 96 nodes, 12 communities
    edges = tmp_path / "graph.edges"
    nx.write_edgelist(graph, edges, data=False)
    out, png = tmp_path / "out.json", tmp_path / "out.png"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--jobs", "1", "--edges", str(edges),
         "--json", str(out), "--png", str(png)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    data = json.loads(out.read_text())
    rows = data["rows"]
    assert [row["n"] for row in rows] == [10, 16, 43]
    for row in rows:
        assert row["runs"] == 3
        assert 1 <= row["distancing_p95"] <= row["n"]
        assert 1 <= row["random_p95"] <= row["n"]
        # the point of the experiment: distant workers form smaller adjacent groups than random ones
        assert row["distancing_p95"] <= row["random_p95"]
    assert [row["t_max"] for row in rows] == [2, 3, 6]
    assert rows[0]["distancing_p95"] == 1  # 10 workers in 12 caves: one per cave
    assert png.stat().st_size > 0


def test_missing_edge_list_is_one_clear_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--edges", str(tmp_path / "absent.edges")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "no edge list" in done.stdout
