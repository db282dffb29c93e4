"""The statistics page's download of the report pack (issue: review-meeting pack)."""

import streamlit as st

from pages._shared import t


def pack_button(reg, period: str) -> None:
    try:
        from core.report import pack_zip
    except ImportError:  # the report pack is not built yet
        return
    st.download_button(t("download_pack"), data=lambda: pack_zip(reg, period, st.session_state.get(
        "lang", "zh")), file_name=f"complaints-{period}.zip", mime="application/zip",
        key="pack")
