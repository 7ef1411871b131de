"""The overview's first screen in a real browser: the north-star tile shows the API's numbers (currency and
percent restated here, not imported), one tile per department with the API's counts, and the change drawn as a
waterfall whose start, driver and end bars are the API's rows (start + contributions = end)."""

from __future__ import annotations

import pytest

from tests.interfaces.browser.conftest import PHONE, api_json, log_in, money
from tests.interfaces.browser.conftest import table_rows as rows

pytestmark = pytest.mark.browser


def test_the_north_star_tile_and_department_tiles_read_the_apis_numbers(new_page, live_server):
    body = api_json(live_server, "/api/v1/overview")
    star = rows(body, "north_star")[0]
    page = new_page()
    log_in(page, "leader", target="/")
    tile = page.locator("#tile-north-star")
    assert tile.get_attribute("data-kpi") == star["kpi"]
    assert tile.locator('[data-col="actual"]').inner_text().strip() == money(star["actual"])
    if star["target"] is not None:
        assert tile.locator('[data-col="target"]').inner_text().strip() == money(star["target"])
        assert tile.locator('[data-col="attainment"]').inner_text().strip() == f"{star['attainment'] * 100:,.1f}%"
    assert star["status"].replace("_", " ") in tile.locator(".status").inner_text()
    assert tile.locator("svg.spark polyline").count() == 1
    (forecast,) = rows(body, "north_star_forecast")  # the quarter of the data's last day, as the Pipeline page
    assert forecast["landing"] == pytest.approx(forecast["won"] + forecast["weighted_open"] + forecast["run_rate"])
    assert tile.locator('#tile-forecast [data-col="landing"]').inner_text().strip() == money(forecast["landing"])
    assert forecast["quarter"] in tile.locator("#tile-forecast").inner_text()
    for d in rows(body, "department_status"):
        t = page.locator(f'.tile-dept[data-department="{d["department"]}"]')
        assert t.locator('[data-col="red"]').inner_text() == str(d["red"])
        assert t.locator('[data-col="green"]').inner_text() == str(d["green"])
        if d["worst_kpi"]:
            expected = f"{d['worst_attainment'] * 100:,.1f}%"
            assert t.locator('[data-col="worst_attainment"]').inner_text() == expected


def test_the_change_is_a_waterfall_from_start_to_end(new_page, live_server):
    bars = rows(api_json(live_server, "/api/v1/overview"), "north_star_waterfall")
    assert [b["measure"] for b in (bars[0], bars[-1])] == ["absolute", "total"]
    moved = sum(b["value"] for b in bars[1:-1])
    assert bars[0]["value"] + moved == pytest.approx(bars[-1]["value"], rel=1e-9)  # start + every driver = end
    page = new_page(PHONE)
    log_in(page, "leader", target="/")
    fig = page.locator("figure.chart", has=page.locator("figcaption", has_text="driver by driver"))
    assert fig.get_attribute("data-rendered") == "1"
    drawn = fig.locator(".plot").evaluate("el => el.data.map(t => [t.type, t.measure, t.y])")
    assert drawn == [["waterfall", [b["measure"] for b in bars], [b["value"] for b in bars]]]
