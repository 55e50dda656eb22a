"""Temporary files a killed run left behind are cleared by the next run; live ones stay."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from leadscore.data.files import write_atomic
from leadscore.io.scratch import _tag, remove_orphans, scratch_dir, scratch_file, umask


def dead_pid() -> str:
    """This host's tag for a process that has exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return _tag().split("~")[0] + f"~{proc.pid}"


def test_leftovers_of_dead_runs_go_and_live_ones_stay(tmp_path):
    target = tmp_path / "scores.parquet"
    gone = tmp_path / f".scores.parquet.{dead_pid()}.abc.tmp"
    gone.write_text("half a file")
    gone_dir = tmp_path / f".scores.parquet.{dead_pid()}-xyz"
    gone_dir.mkdir()
    mine = tmp_path / f".scores.parquet.{_tag()}.def.tmp"
    mine.write_text("a live run's file")
    other = tmp_path / f".other.parquet.{dead_pid()}.abc.tmp"  # another target's
    other.write_text("x")
    elsewhere = tmp_path / f".scores.parquet.otherhost~{dead_pid().split('~')[1]}.abc.tmp"
    elsewhere.write_text("a shared folder: another host's run")
    backup = tmp_path / ".scores.parquet.20240105"  # a user's own file
    backup.write_text("x")
    tmp = scratch_file(target)
    assert tmp.name.startswith(f".scores.parquet.{_tag()}.") and tmp.exists()
    assert not gone.exists() and not gone_dir.exists()
    assert mine.exists() and other.exists() and elsewhere.exists() and backup.exists()


def test_scratch_folders_carry_the_pid_and_clear_dead_ones(tmp_path):
    stale = tmp_path / f"leadscore-events-{dead_pid()}-q1w2"
    stale.mkdir()
    (stale / "part.parquet").write_text("x")
    fresh = scratch_dir("leadscore-events-", tmp_path)
    assert fresh.name.startswith(f"leadscore-events-{_tag()}-")
    assert not stale.exists()
    assert remove_orphans(tmp_path, "leadscore-events-") == 0


def test_a_spark_output_moved_aside_by_a_killed_run_is_put_back(tmp_path):
    """Killed between its two renames, a run leaves the previous output in its scratch
    folder; the next write restores it rather than clearing it with the folder."""
    from leadscore.features.spark import _restore_killed

    target = tmp_path / "scores.parquet"
    aside = tmp_path / f".scores.parquet.{dead_pid()}-k1" / "old"
    aside.mkdir(parents=True)
    (aside / "part-0.parquet").write_text("the previous scores")
    _restore_killed(target)
    assert (target / "part-0.parquet").read_text() == "the previous scores"


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_an_output_written_atomically_gets_the_mode_the_umask_implies(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        assert umask() == mask
        written = write_atomic(tmp_path / "out.txt", lambda p: p.write_text("x"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(written.stat().st_mode) == mode
    assert written.read_text() == "x"
