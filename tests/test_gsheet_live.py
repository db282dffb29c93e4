"""Opt-in: the Google Sheet store against a real spreadsheet.

Runs only when GSHEETS_TEST_KEY names a test spreadsheet shared with the service account
whose key is in GOOGLE_APPLICATION_CREDENTIALS; skipped otherwise (see the README).
"""

import datetime as dt
import os
import uuid

import pytest

from core.register import build_register
from core.store.gsheet import GSheetStore

KEY = os.environ.get("GSHEETS_TEST_KEY")
pytestmark = [pytest.mark.live, pytest.mark.skipif(
    not (KEY and os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")),
    reason="set GSHEETS_TEST_KEY and GOOGLE_APPLICATION_CREDENTIALS to run against a real sheet")]


def test_init_append_update_and_check_on_a_real_sheet(schema):
    store = GSheetStore(KEY, schema)
    store.init("en")
    assert store.init("en") == []
    cid = f"LIVE{uuid.uuid4().hex[:10].upper()}"
    now = dt.datetime.now().replace(microsecond=0)
    store.read()
    store.append("complaints", [{"id": cid, "received_at": now, "subject": "=live test",
                                 "version": 1}])
    store.update(cid, {"handler": "live"}, seen={"version": 1}, user="live-test", now=now)
    reg = build_register(store.read(), schema, now=now)
    row = reg.table[reg.table["id"] == cid].iloc[0]
    assert row["subject"] == "=live test" and row["handler"] == "live" and row["version"] == 2
