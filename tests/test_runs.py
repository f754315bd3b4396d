"""The run-folder protocol: what the writer puts in a run folder and what the reader makes of it,
with real processes behind the status (one that runs, one that is gone, a zombie)."""

import json
import os
import subprocess
import sys
import time

import pytest

from slr_core.training.runs import (
    ACTIVE,
    METRICS,
    RESUMABLE,
    RESUME,
    STATUS,
    Run,
    RunLog,
    RunState,
    list_runs,
    process_alive,
)


def test_writer_and_reader_agree(tmp_path):
    log = RunLog(tmp_path)
    log.status(RunState.RUNNING, epoch=1, epochs=3, step=7)
    log.metric(type="step", step=7, loss=0.5)
    log.metric(type="epoch", epoch=1, val_top1=0.25)
    log.close()
    status = json.loads((tmp_path / STATUS).read_text())
    assert status["state"] == "running" and status["pid"] == os.getpid() and status["processes"] == 1
    run = Run(tmp_path)
    read = run.status()
    assert read["state"] is RunState.RUNNING and read["state"] == "running"  # a str enum
    assert run.running and not run.can_resume and f"{read['state']}" == "running"
    steps, epochs = run.metrics()
    assert [s["step"] for s in steps] == [7] and [e["epoch"] for e in epochs] == [1]


def test_a_line_being_written_and_a_missing_status(tmp_path):
    (tmp_path / METRICS).write_text('{"type": "step", "step": 1}\n{"type": "ep')
    run = Run(tmp_path)
    assert run.metrics() == ([{"type": "step", "step": 1}], [])
    assert run.state is RunState.UNKNOWN and not run.running and not run.can_resume
    (tmp_path / STATUS).write_text('{"state": "dancing"}')
    assert run.state is RunState.UNKNOWN
    assert not run.stop()  # nothing to stop


def test_a_process_that_is_gone_reads_as_interrupted(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    (tmp_path / STATUS).write_text(json.dumps({"state": "running", "pid": proc.pid}))
    (tmp_path / RESUME).write_bytes(b"x")
    run = Run(tmp_path)
    status = run.status()
    assert status["state"] is RunState.INTERRUPTED and "resume" in status["message"]
    assert run.can_resume and not run.running and not run.stop()


def test_a_live_child_runs_and_an_ended_one_is_reaped_as_gone(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        RunLog.launched(tmp_path, child.pid)
        run = Run(tmp_path)
        assert run.state is RunState.STARTING and run.running and process_alive(child.pid)
        assert run.stop()  # SIGTERM
        deadline = time.time() + 60
        while run.running and time.time() < deadline:  # the ended child is reaped, not left a zombie
            time.sleep(0.05)
        assert run.state is RunState.INTERRUPTED
    finally:
        child.kill()
        child.wait()
    assert not process_alive(child.pid) and not process_alive(None) and not process_alive(0)


@pytest.mark.parametrize("state", list(RunState))
def test_every_state_round_trips(tmp_path, state):
    RunLog(tmp_path).status(state)
    read = Run(tmp_path).state
    # a live process (this one) keeps its active state; every other state is read back as written
    assert read is state
    assert (state in RESUMABLE) == (state in {"stopped", "interrupted", "failed"})
    assert (state in ACTIVE) == (state in {"starting", "preparing", "running"})


def test_list_runs_newest_first(tmp_path):
    for i, name in enumerate(["old", "new"]):
        (tmp_path / name).mkdir()
        RunLog(tmp_path / name).status(RunState.FINISHED)
        os.utime(tmp_path / name / STATUS, (1000 + i, 1000 + i))
    (tmp_path / "not-a-run").mkdir()
    assert [r.name for r in list_runs(tmp_path)] == ["new", "old"]
    assert list_runs(tmp_path / "nowhere") == []
