"""Plan files: presets load, user plans round-trip, errors name the file and the key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hiitpi.errors import PlanError
from hiitpi.plans import (
    Plan,
    available_plans,
    delete_user_plan,
    load_plan,
    load_plans,
    parse_plan,
    presets,
    save_user_plan,
)


def hiitpi(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hiitpi", *args],
        capture_output=True, text=True, timeout=120, env={**os.environ, **env},
    )  # fmt: skip


def test_presets_cover_tabata_emom_amrap_and_a_circuit() -> None:
    kinds = {p.kind for p in presets().values()}
    assert kinds == {"tabata", "emom", "amrap", "circuit"}
    tabata = presets()["tabata-push_up"]
    assert tabata.rounds == 8 and tabata.countdown_s == 3
    assert [(b.exercise, b.work_s, b.rest_s) for b in tabata.blocks] == [("push_up", 20, 10)]
    emom = presets()["emom-squat"]
    assert emom.blocks[0].target == 10 and emom.blocks[0].period_s == 60
    amrap = presets()["amrap-circuit"]
    assert amrap.time_cap_s == 480 and amrap.open_rounds and len(amrap.blocks) == 3


def _plan(**changes: object) -> Plan:
    data: dict[str, object] = {
        "id": "mine",
        "name": "My plan",
        "rounds": 2,
        "blocks": [{"exercise": "squat", "target": 5, "rest_s": 10}],
    }
    data.update(changes)
    return Plan.model_validate(data)


def test_user_plan_round_trips_and_is_listed(tmp_path: Path) -> None:
    plan = _plan(blocks=[{"exercise": "squat", "target": 5, "work_s": 40, "rest_s": 12.5},
                         {"exercise": "push_up", "work_s": 30}])  # fmt: skip
    path = save_user_plan(plan, tmp_path)
    assert path == tmp_path / "plans" / "mine.toml"
    assert parse_plan(path.read_text(), str(path)) == plan
    assert load_plan("mine", tmp_path) == plan
    ids = [p.id for p in available_plans(tmp_path)]
    assert "mine" in ids and "tabata-push_up" in ids and ids == sorted(ids)
    assert delete_user_plan("mine", tmp_path) and not delete_user_plan("mine", tmp_path)
    with pytest.raises(PlanError, match=r"unknown plan 'mine'; valid: .*tabata-push_up"):
        load_plan("mine", tmp_path)


def test_without_a_data_dir_the_plans_go_where_the_config_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIITPI_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.delenv("HIITPI_CONFIG", raising=False)
    assert save_user_plan(_plan()) == tmp_path / "env" / "plans" / "mine.toml"
    assert load_plan("mine") == _plan()
    config = tmp_path / "hiitpi.toml"
    config.write_text(f'data_dir = "{tmp_path / "file"}"\n')
    monkeypatch.delenv("HIITPI_DATA_DIR")
    monkeypatch.setenv("HIITPI_CONFIG", str(config))
    assert "mine" not in load_plans()[0]
    assert save_user_plan(_plan()).parent == tmp_path / "file" / "plans"


def test_a_preset_id_cannot_be_saved_or_shadowed(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="preset"):
        save_user_plan(_plan(id="tabata-push_up"), tmp_path)
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "tabata-push_up.toml").write_text(_plan(id="tabata-push_up").to_toml())
    plans, errors = load_plans(tmp_path)
    assert plans["tabata-push_up"] == presets()["tabata-push_up"]
    assert len(errors) == 1 and "preset" in errors[0]


def test_a_broken_plan_file_is_said_to_be_broken_not_unknown(tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "mine.toml").write_text('id = "mine"\nname = "x"\nblocks = []\n')
    with pytest.raises(PlanError) as broken:
        load_plan("mine", tmp_path)
    assert str(broken.value).startswith(f"plan 'mine' cannot be used: {tmp_path}/plans/mine.toml")
    assert "blocks: List should have at least 1 item" in str(broken.value)
    with pytest.raises(PlanError, match=r"unknown plan 'other'; valid: "):
        load_plan("other", tmp_path)


H = 'id = "bad"\nname = "x"\n'


@pytest.mark.parametrize(
    ("text", "message"),  # H: the plan's id and name
    [
        (H + '[[blocks]]\nexercise = "squat"\n', "blocks.0: Value error, give work_s"),
        (H + '[[blocks]]\nexercise = "nope"\ntarget = 3\n',
         "blocks.0: Value error, unknown exercise 'nope'; valid:"),
        (H + '[[blocks]]\nexercise = "squat"\nwork_s = -1\n',
         "blocks.0.work_s: Input should be greater than 0"),
        (H + '[[blocks]]\nexercise = "squat"\ntarget = 3\nperiod_s = 60\nrest_s = 5\n',
         "rest of the period"),
        (H + 'kind = "amrap"\n[[blocks]]\nexercise = "squat"\ntarget = 3\n',
         "needs time_cap_s"),
        (H + 'rounds = 3\ntime_cap_s = 60\n[[blocks]]\nexercise = "squat"\ntarget = 3\n',
         "leave rounds"),
        (H + 'blocks = []\n', "blocks: List should have at least 1 item"),
        (H + 'warmup = 1\n[[blocks]]\nexercise = "squat"\ntarget = 3\n',
         "warmup: unknown key"),
        ('id = "other"\nname = "x"\n[[blocks]]\nexercise = "squat"\ntarget = 3\n',
         "id: 'other' must match the file name 'bad'"),
        ("id = ", "not valid TOML"),
    ],
)  # fmt: skip
def test_errors_name_the_file_and_the_key(text: str, message: str) -> None:
    with pytest.raises(PlanError) as err:
        parse_plan(text, "plans/bad.toml")
    assert str(err.value).startswith("plans/bad.toml: ")
    assert message in str(err.value)


def test_cli_lists_plans_and_reports_a_bad_user_file(tmp_path: Path) -> None:
    proc = hiitpi("plans", "--blocks", env={"HIITPI_DATA_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "tabata-push_up" in proc.stdout and "push_up 20 s, rest 10 s" in proc.stdout
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "broken.toml").write_text('id = "broken"\nname = "b"\n')
    proc = hiitpi("plans", env={"HIITPI_DATA_DIR": str(tmp_path)})
    assert proc.returncode == 2
    assert "broken.toml: blocks: Field required" in proc.stderr
    assert "emom-squat" in proc.stdout
