"""API calls and bytes sent and received per operation at N rows, against the in-process
fake of the Sheets API (the bytes of each request's URL and body, and of each reply), next
to reading the Complaints tab whole and to the whole-sheet rewrite of
streamlit/gsheets-connection.

    python bench/gsheet.py --rows 10000

Target (issue 11): an update receives <= 1% of the Complaints tab's bytes. It finds the row
by its mark (every row the app adds has one); a row without a mark (typed by hand, loaded in
bulk) is marked first, found by the one cell the app's read placed it on, else by sampling
the ID column (rows in number order) and reading the few rows it narrows down to, else by
the whole ID column; never by reading the tab.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import responses  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from core.front.demo import demo_records  # noqa: E402
from core.reading.schema import schema  # noqa: E402
from core.store.gsheet import GSheetStore, raw_value  # noqa: E402
from tests.sheets_fake import TOKEN_URL, FakeSheets  # noqa: E402

NOW = dt.datetime(2026, 11, 24, 10, 0)


def key() -> dict:
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    return {"type": "service_account", "private_key": pem, "client_email": "bench@x.iam",
            "token_uri": TOKEN_URL, "private_key_id": "1", "client_id": "1", "project_id": "b"}


TARGET = 0.01  # of the Complaints tab, received per update


def gzipped(fake: FakeSheets) -> FakeSheets:
    """Also count each reply gzip-compressed, as Google sends it to a client that accepts
    gzip (requests does, so gspread does): `fake.bytes_gzip`."""
    serve, fake.bytes_gzip = fake._serve_one, 0

    def counted(request):
        result = serve(request)
        fake.bytes_gzip += len(gzip.compress(result[2].encode() if isinstance(result[2], str)
                                             else result[2], 6))
        return result
    fake._serve_one = counted
    return fake


def measure(fake: FakeSheets, fn) -> tuple[int, int, int, int]:
    """(API calls, bytes sent, bytes received, received gzip-compressed) of fn()."""
    calls, sent, got, wire = len(fake.calls), fake.bytes_sent, fake.bytes_received, \
        fake.bytes_gzip
    fn()
    return (len(fake.calls) - calls, fake.bytes_sent - sent, fake.bytes_received - got,
            fake.bytes_gzip - wire)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    rows = ap.parse_args().rows
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = gzipped(FakeSheets()).install(rsps)
        store = GSheetStore(fake.key, schema(), credentials=key(), sleep=lambda s: None)
        store.init("zh")
        recs = demo_records(schema(), rows=rows, seed=1, lang="zh", now=NOW)["complaints"]
        for i in range(0, len(recs), 2000):
            store.append("complaints", recs[i:i + 2000])
        view = measure(fake, store.read)
        tab = measure(fake, lambda: store.sheet.values_get("'投诉登记'"))  # the tab, whole
        rec = {"id": "TS20261124999", "received_at": NOW, "subject": "bench"}
        audit = [{"time": NOW, "user": "b", "id": rec["id"], "field": "created", "old": "",
                  "new": "bench"}]
        intake = measure(fake, lambda: store.append("complaints", [rec], audit=audit))
        app = measure(fake, lambda: store.add_complaints(
            [{"received_at": NOW, "subject": "bench app intake"}], prefix="TS", user="b", now=NOW))
        bare = recs[rows // 3]["id"]  # no row from a read: the ID column, sampled, finds it
        column = measure(fake, lambda: store.update(bare, {"handler": "x"}, seen={"version": 1},
                                                    user="b", now=NOW))
        cid = recs[rows // 2]["id"]  # as core.commands.intake.record passes it: its row in the read
        first = measure(fake, lambda: store.update(cid, {"handler": "x"}, seen={
            "version": 1, "row": rows // 2 + 2}, user="b", now=NOW))
        again = measure(fake, lambda: store.update(cid, {"handler": "y"}, seen={"version": 2},
                                                   user="b", now=NOW))
        book = store.read()
        table = [book.tabs["complaints"].header, *book.tabs["complaints"].rows]  # intake included

        def rewrite():  # what clear-and-rewrite costs: every row travels on every save
            store.sheet.values_clear("'投诉登记'")
            store.sheet.values_update("'投诉登记'!A1", params={"valueInputOption": "USER_ENTERED"},
                                      body={"values": [["" if (x := raw_value(v)) is None else x
                                                        for v in r] for r in table]})
        whole = measure(fake, rewrite)
    size = tab[2]
    print(f"{rows} rows, against the in-process Sheets fake; the Complaints tab read whole "
          f"receives {size:,} bytes; target: an update receives <= {TARGET:.0%} of that "
          f"({size * TARGET:,.0f} bytes)")
    print(f"  {'operation':<58}{'calls':>6}{'bytes sent':>14}{'received':>14}"
          f"{'(gzip)':>12}")

    def line(name, m, target=False):
        verdict = (f"  {m[2] / size:6.2%} of the tab "
                   f"({'met' if m[2] <= TARGET * size else 'NOT met'})") if target else ""
        print(f"  {name:<58}{m[0]:>6}{m[1]:>14,}{m[2]:>14,}{m[3]:>12,}{verdict}")
    line("page view (one read for every page and viewer in a window)", view)
    line("append one row + audit line (bulk path, no row mark)", intake)
    line("intake from the app (number, marked row, audit; read back)", app)
    line("update, row not marked, no row given (ID cells sampled...)", column, True)
    line("update, row not marked (its cell from the read, mark...)", first, True)
    line("update, row marked (the row by its mark, write, audit)", again, True)
    line("whole-sheet rewrite (clear + update, gsheets-connection)", whole)
    print("  received: reply bytes as the fake serialises them (compact JSON, uncompressed); "
          "(gzip): the same replies compressed, as they travel")


if __name__ == "__main__":
    main()
