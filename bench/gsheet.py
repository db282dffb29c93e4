"""API calls and request bytes per intake and per page view at N rows, against the in-process
fake of the Sheets API, next to the whole-sheet rewrite of streamlit/gsheets-connection.

    python bench/gsheet.py --rows 10000
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import responses  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from core.demo import demo_records  # noqa: E402
from core.schema import schema  # noqa: E402
from core.store.gsheet import GSheetStore, cell_text  # noqa: E402
from tests.sheets_fake import TOKEN_URL, FakeSheets  # noqa: E402

NOW = dt.datetime(2026, 11, 24, 10, 0)


def key() -> dict:
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    return {"type": "service_account", "private_key": pem, "client_email": "bench@x.iam",
            "token_uri": TOKEN_URL, "private_key_id": "1", "client_id": "1", "project_id": "b"}


def measure(fake: FakeSheets, fn) -> tuple[int, int]:
    calls, sent = len(fake.calls), fake.bytes_sent
    fn()
    return len(fake.calls) - calls, fake.bytes_sent - sent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    rows = ap.parse_args().rows
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeSheets().install(rsps)
        store = GSheetStore(fake.key, schema(), credentials=key(), sleep=lambda s: None)
        store.init("zh")
        recs = demo_records(schema(), rows=rows, seed=1, lang="zh", now=NOW)["complaints"]
        for i in range(0, len(recs), 2000):
            store.append("complaints", recs[i:i + 2000])
        view = measure(fake, store.read)
        rec = {"id": "TS20261124999", "received_at": NOW, "subject": "bench"}
        audit = [{"time": NOW, "user": "b", "id": rec["id"], "field": "created", "old": "",
                  "new": "bench"}]
        intake = measure(fake, lambda: store.append("complaints", [rec], audit=audit))
        cid = recs[rows // 2]["id"]
        update = measure(fake, lambda: store.update(cid, {"handler": "x"}, seen={"version": 1},
                                                    user="b", now=NOW))
        book = store.read()
        table = [book.tabs["complaints"].header, *book.tabs["complaints"].rows, list(rec.values())]

        def rewrite():  # what clear-and-rewrite costs: every row travels on every save
            store.sheet.values_clear("'投诉登记'")
            store.sheet.values_update("'投诉登记'!A1", params={"valueInputOption": "USER_ENTERED"},
                                      body={"values": [[cell_text(v) for v in r] for r in table]})
        whole = measure(fake, rewrite)
    print(f"{rows} rows, against the in-process Sheets fake")
    print(f"  page view (one read for every page and viewer in the window): {view[0]} call, "
          f"{view[1]:,} request bytes")
    print(f"  intake (row + audit line, one batchUpdate):                  {intake[0]} call, "
          f"{intake[1]:,} request bytes")
    print(f"  update (locate by number + RAW batchUpdate + audit line):    {update[0]} calls, "
          f"{update[1]:,} request bytes")
    print(f"  whole-sheet rewrite (clear + update, gsheets-connection):    {whole[0]} calls, "
          f"{whole[1]:,} request bytes ({whole[1] / max(intake[1], 1):,.0f}x the intake)")


if __name__ == "__main__":
    main()
