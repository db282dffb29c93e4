"""Opt-in: the Google Sheet store against a real spreadsheet.

Runs only when GSHEETS_TEST_KEY names a test spreadsheet shared with the service account
whose key is in GOOGLE_APPLICATION_CREDENTIALS; skipped otherwise (see the README).
"""

import datetime as dt
import os
import uuid

import pytest

from core.rules.register import build_register
from core.store.gsheet import GSheetStore

KEY = os.environ.get("GSHEETS_TEST_KEY")
pytestmark = [pytest.mark.live, pytest.mark.skipif(
    not (KEY and os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")),
    reason="set GSHEETS_TEST_KEY and GOOGLE_APPLICATION_CREDENTIALS to run against a real sheet")]


def test_init_intake_update_and_check_on_a_real_sheet(schema):
    # R-NUMBER on the real API: numbered at write time, tagged with developer metadata,
    # then updated through that metadata (values:batchUpdateByDataFilter).
    store = GSheetStore(KEY, schema)
    store.init("en")
    assert store.init("en") == []
    prefix = f"LIVE{uuid.uuid4().hex[:6].upper()}"
    now = dt.datetime.now().replace(microsecond=0)
    cid = store.add_complaints([{"received_at": now, "subject": "=live test", "version": 1}],
                               prefix=prefix, user="live-test", now=now)[0]
    assert cid.startswith(prefix)
    store.update(cid, {"handler": "live"}, seen={"version": 1}, user="live-test", now=now)
    reg = build_register(store.read(), schema, now=now)
    row = reg.table[reg.table["id"] == cid].iloc[0]
    assert row["subject"] == "=live test" and row["handler"] == "live" and row["version"] == 2
    assert row["received_at"] == now.replace(second=0)  # a date cell, shown to the minute
