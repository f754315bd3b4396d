"""One base class for the errors a user can fix: the command line prints those as one line (exit 2)
and lets a programming error show its traceback."""

import pytest

from slr_core import cli
from slr_core.base.errors import ConfigError, SLRError
from slr_core.capture.extract import VideoError
from slr_core.capture.keypoints import KeypointsError
from slr_core.datasets.data import DatasetError
from slr_core.models.checkpoint import CheckpointError
from slr_core.training.config import TrainingError


def test_every_user_error_shares_the_base():
    for cls in (CheckpointError, DatasetError, ConfigError, VideoError, KeypointsError, TrainingError):
        assert issubclass(cls, SLRError)


def test_user_errors_are_one_line_and_bugs_keep_their_traceback(monkeypatch, capsys, tmp_path):
    assert cli.main(["predict", str(tmp_path / "missing.mp4"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.mp4: no such file" in err

    def broken(args):
        raise TypeError("a bug")

    parser = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda: _with(parser(), broken))
    with pytest.raises(TypeError, match="a bug"):
        cli.main(["translate", "hello"])


def _with(parser, func):
    parser.set_defaults(func=func)
    for action in parser._subparsers._group_actions:
        for sub in action.choices.values():
            sub.set_defaults(func=func)
    return parser
