"""Exercise definitions: every built-in loads; bad files fail naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from hiitpi.errors import ExerciseError
from hiitpi.referee import list_exercises, load_definition_file, load_exercise

EXPECTED = {
    "bicep_curl",
    "burpee",
    "high_knees",
    "jumping_jacks",
    "lunge",
    "mountain_climber",
    "plank",
    "push_up",
    "side_squat_jump",
    "sit_up",
    "squat",
    "squat_jump",
    "toe_tap",
}

GOOD = """
id = "wave"
label = "Wave"
required = [["shoulder", "elbow", "wrist"]]
[features]
elbow = { kind = "angle", points = ["shoulder", "elbow", "wrist"] }
[start]
when = [{ feature = "elbow", above = 150 }]
[[phases]]
name = "open"
when = [{ feature = "elbow", above = 150, exit = 140 }]
[[phases]]
name = "closed"
when = [{ feature = "elbow", below = 60, exit = 70 }]
"""


def test_every_issue_exercise_is_built_in_and_sorted() -> None:
    defs = list_exercises()
    ids = [d.id for d in defs]
    assert ids == sorted(ids)
    assert set(ids) >= EXPECTED
    assert all(d.label for d in defs)


def test_plank_is_a_hold_and_alternating_exercises_count_each_side() -> None:
    assert load_exercise("plank").kind == "hold"
    assert load_exercise("high_knees").alternating
    assert load_exercise("mountain_climber").alternating
    assert not load_exercise("push_up").alternating


def test_unknown_exercise_lists_the_valid_ids() -> None:
    with pytest.raises(ExerciseError, match=r"unknown exercise 'x'; valid: bicep_curl, burpee"):
        load_exercise("x")


def test_a_valid_file_loads(tmp_path: Path) -> None:
    f = tmp_path / "wave.toml"
    f.write_text(GOOD)
    d = load_definition_file(f)
    assert (d.id, len(d.phases)) == ("wave", 2)


@pytest.mark.parametrize(
    "old,new,key",
    [
        ('kind = "angle"', 'kind = "spin"', "features.elbow.kind"),
        ("above = 150, exit = 140", "above = 150, exit = 160", "phases.0.when.0"),
        ("below = 60, exit = 70", "below = 60, above = 10", "phases.1.when.0"),
        ('"shoulder", "elbow", "wrist"] }', '"shoulder", "elbw", "wrist"] }', "features.elbow"),
        ('name = "closed"', 'name = "closed"\nmin_s = -1', "phases.1.min_s"),
        ('label = "Wave"', 'label = "Wave"\ncolour = "red"', "colour"),
        ('feature = "elbow", below = 60', 'feature = "knee", below = 60', "unknown feature 'knee'"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    assert old in GOOD
    f = tmp_path / "wave.toml"
    f.write_text(GOOD.replace(old, new))
    with pytest.raises(ExerciseError) as err:
        load_definition_file(f)
    assert str(f) in str(err.value)
    assert key in str(err.value)


def test_id_must_match_the_file_name(tmp_path: Path) -> None:
    f = tmp_path / "other.toml"
    f.write_text(GOOD)
    with pytest.raises(ExerciseError, match=r"other\.toml: id"):
        load_definition_file(f)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    f = tmp_path / "wave.toml"
    f.write_text("id = ")
    with pytest.raises(ExerciseError, match=r"wave\.toml: not valid TOML"):
        load_definition_file(f)
