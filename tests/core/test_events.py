"""RepEvent / WorkoutState round trips, including dicts written before a field existed."""

from __future__ import annotations

from hiitpi.core.events import EventKind, RepEvent


def test_rep_event_carries_form_judged_through_a_dict() -> None:
    e = RepEvent(EventKind.REP, 1, 2.0, 1.0, 1.0, 0.9, 1.0, form_judged=False, form_reason="x")
    d = e.to_dict()
    assert d["form_judged"] is False and d["form_reason"] == "x"
    assert RepEvent.from_dict(d) == e


def test_an_event_stored_before_form_judged_existed_reads_as_judged() -> None:
    d = RepEvent(EventKind.NO_REP, 1, 2.0, 1.0, 1.0, 0.0, 0.5, "depth", "go lower").to_dict()
    del d["form_judged"], d["form_reason"]
    assert RepEvent.from_dict(d).form_judged is True
