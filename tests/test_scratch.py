"""Temporary files a killed run left behind are cleared by the next run; live ones stay."""

from __future__ import annotations

import os
import subprocess
import sys

from leadscore.features.scratch import remove_orphans, scratch_dir, scratch_file


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_leftovers_of_dead_runs_go_and_live_ones_stay(tmp_path):
    target = tmp_path / "scores.parquet"
    gone = tmp_path / f".scores.parquet.{dead_pid()}.abc.tmp"
    gone.write_text("half a file")
    gone_dir = tmp_path / f".scores.parquet.{dead_pid()}-xyz"
    gone_dir.mkdir()
    mine = tmp_path / f".scores.parquet.{os.getpid()}.def.tmp"
    mine.write_text("a live run's file")
    other = tmp_path / f".other.parquet.{dead_pid()}.abc.tmp"  # another target's
    other.write_text("x")
    tmp = scratch_file(target)
    assert tmp.name.startswith(f".scores.parquet.{os.getpid()}.") and tmp.exists()
    assert not gone.exists() and not gone_dir.exists()
    assert mine.exists() and other.exists()


def test_scratch_folders_carry_the_pid_and_clear_dead_ones(tmp_path):
    stale = tmp_path / f"leadscore-events-{dead_pid()}-q1w2"
    stale.mkdir()
    (stale / "part.parquet").write_text("x")
    fresh = scratch_dir("leadscore-events-", tmp_path)
    assert fresh.name.startswith(f"leadscore-events-{os.getpid()}-")
    assert not stale.exists()
    assert remove_orphans(tmp_path, "leadscore-events-") == 0
