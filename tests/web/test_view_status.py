"""/api/status carries the camera's view and whether form is judged from it."""

from __future__ import annotations

from flask.testing import FlaskClient
from tests.referee import skeleton as sk

from hiitpi.core.events import WorkoutState
from hiitpi.live import RedisLiveStore
from hiitpi.live.base import EngineStatus
from hiitpi.referee import RefereePipeline, load_exercise


def test_status_carries_the_view_the_referee_published(
    client: FlaskClient, store: RedisLiveStore
) -> None:
    pipeline = RefereePipeline(load_exercise("push_up"))
    for t, pose in sk.sequence(sk.push_up, sk.reps(2, 2.0)):
        state, _ = pipeline.update(pose, t)
    store.publish_state(state, EngineStatus(source="cam0", active=True, running=True))
    body = client.get("/api/status").get_json()
    assert body["reps"] == 2
    assert body["view"] == "side"
    assert body["view_confidence"] >= 0.9
    assert body["form_judged"] is True


def test_status_says_when_form_is_not_judged(client: FlaskClient, store: RedisLiveStore) -> None:
    state = WorkoutState(
        "push_up",
        3.0,
        reps=1,
        view="front",
        view_confidence=0.8,
        form_judged=False,
        form_reason="form is not judged from this angle",
    )
    store.publish_state(state, EngineStatus(source="cam0", active=True, running=True))
    body = client.get("/api/status").get_json()
    assert (body["view"], body["form_judged"]) == ("front", False)
    assert body["form_reason"] == "form is not judged from this angle"


def test_status_before_any_engine_has_no_view(client: FlaskClient) -> None:
    body = client.get("/api/status").get_json()
    assert body["view"] is None and body["form_judged"] is True
