"""The server process collects garbage less often once started (see api/gc_tuning.py)."""

import gc

from fastapi.testclient import TestClient

from api.gc_tuning import OLDER_THRESHOLDS, YOUNG_THRESHOLD


def test_a_started_app_has_tuned_the_collector(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200  # the app has started
    assert gc.get_threshold() == (YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    assert gc.get_freeze_count() > 0  # what start-up loaded is out of the collector's walk
