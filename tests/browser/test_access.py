"""Sign-in and roles in the real browser: the sign-in page, the board's view (no officers'
pages, no lists of children, small numbers as <5), the board pack download, the checklist."""

from __future__ import annotations

import pytest

from browser.conftest import PASSWORD, VIEWPORT, new_signed_in_context


def nav_paths(page) -> list[str]:
    return page.eval_on_selector_all("nav.site-nav a", "links => links.map(a => new URL(a.href).pathname)")


def test_signing_in_and_out(server, browser):
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        page = ctx.new_page()
        page.goto(server.base_url + "/repeat?from=2025-04-01&to=2026-03-31", wait_until="domcontentloaded")
        assert "/login" in page.url and page.locator("h1").inner_text() == "mfhc"
        page.fill("#username", "analyst")
        page.fill("#password", "not the password")
        page.click("button[type=submit]")
        assert "not right" in page.locator("p.error").inner_text()
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert page.url.endswith("/repeat?from=2025-04-01&to=2026-03-31")
        page.wait_for_selector(".signed-in")
        assert "analyst (Analyst)" in page.inner_text(".signed-in")
        cookie = next(c for c in ctx.cookies() if c["name"] == "mfhc_session")
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
        page.click("a.sign-out")
        page.wait_for_url("**/login")
        page.goto(server.base_url + "/", wait_until="domcontentloaded")
        assert "/login" in page.url
    finally:
        ctx.close()


def test_sign_in_page_is_accessible(server, browser):
    from axe_playwright_python.sync_playwright import Axe

    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        page = ctx.new_page()
        page.goto(server.base_url + "/login", wait_until="domcontentloaded")
        violations = Axe().run(page).response["violations"]
        assert [v["id"] for v in violations] == []
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def board_page(server, browser):
    ctx = new_signed_in_context(browser, server.base_url, "board", accept_downloads=True)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"HTTP {r.status} {r.url}"))
    yield page, errors
    ctx.close()


def test_board_view(server, board_page):
    page, errors = board_page
    page.goto(server.base_url + "/?from=2025-07-01&to=2025-07-31&care=home&age=16-17",
              wait_until="domcontentloaded")
    page.wait_for_selector("#overview-tiles .tile")
    paths = nav_paths(page)
    assert "/" in paths and "/checklist" in paths
    assert not {"/care", "/absence", "/quality", "/admin"} & set(paths)
    assert page.locator("#filter-small").count() == 1 and page.locator("#filter-small input").count() == 0
    assert "<5" in page.inner_text("#overview-tiles")
    # A small-numbers request in the URL is ignored for the board.
    page.goto(server.base_url + "/?from=2025-07-01&to=2025-07-31&care=home&age=16-17&small=show",
              wait_until="domcontentloaded")
    page.wait_for_selector("#overview-tiles .tile")
    page.wait_for_timeout(1500)
    assert "<5" in page.inner_text("#overview-tiles")
    page.goto(server.base_url + "/repeat", wait_until="domcontentloaded")
    page.wait_for_selector("#repeat-escalation-list p")
    assert "for analysts" in page.inner_text("#repeat-escalation-list")
    page.goto(server.base_url + "/care", wait_until="domcontentloaded")
    page.wait_for_selector("#main h1")
    assert page.inner_text("#main h1") == "Not in your view"
    assert errors == []


def test_board_pack_download(server, board_page):
    page, errors = board_page
    page.goto(server.base_url + "/?from=2025-04-01&to=2026-03-31", wait_until="domcontentloaded")
    page.wait_for_selector("#board-pack-button")
    with page.expect_download(timeout=90_000) as download_info:
        page.click("#board-pack-button")
    download = download_info.value
    assert download.suggested_filename == "mfhc-board-pack-2025-04-01-to-2026-03-31.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    assert errors == []


def test_checklist_answer_is_kept_with_who_and_when(server, board_page):
    page, errors = board_page
    page.goto(server.base_url + "/checklist", wait_until="domcontentloaded")
    first = page.locator(".checklist-item").first
    first.get_by_label("Partly").check()
    first.locator("textarea").fill("Protocol agreed with the police; review due in March.")
    first.get_by_role("button", name="Save answer 1").click()
    page.wait_for_function("() => document.querySelector('.checklist-item .data-note').textContent"
                           ".includes('by board')")
    page.reload(wait_until="domcontentloaded")
    first = page.locator(".checklist-item").first
    assert first.locator("textarea").input_value() == "Protocol agreed with the police; review due in March."
    assert "Answered partly by board" in first.locator(".data-note").inner_text()
    assert errors == []
