"""Browser tests of the real app: the demo store, gunicorn, and Debian's headless Chromium.

One store and one server for the whole session. The pages under test are discovered at
collection time from the navigation the app renders (`nav.site-nav a`), so a page added to
dashboard/pages/ is covered without editing these tests. Everything is skipped, with the
reason, only when /usr/bin/chromium is absent (CI installs it: see .ci/run and the Makefile).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
SKIP_REASON = f"{CHROMIUM} is absent: install Debian's chromium (`apt-get install chromium`, or `make browser` as root)"
VIEWPORT = {"width": 1280, "height": 900}
PASSWORD = "browser-test-password"
ROLES = ("board", "manager", "analyst", "admin")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """The demo store, built once, and gunicorn serving the real app over it."""

    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="mfhc-browser-"))
        self.db = self.workdir / "mfhc.duckdb"
        self.log_path = self.workdir / "gunicorn.log"
        self.process: subprocess.Popen | None = None
        self.base_url = ""
        self.pages: list[str] | None = None

    def start(self) -> None:
        env = {**os.environ, "MFHC_CONFIG": str(self.workdir / "no-config.toml"),
               "MFHC_PSEUDONYM_KEY": "browser-test-key-not-secret", "MFHC_STATE_DIR": str(self.workdir)}
        env.pop("MFHC_DB", None)
        built = subprocess.run([sys.executable, "-m", "pipelines.cli", "demo", "--db", str(self.db)],
                               cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        if built.returncode != 0:
            raise RuntimeError(f"mfhc demo failed:\n{built.stdout}\n{built.stderr}")
        for role in ROLES:  # one account per role, named after it
            added = subprocess.run([sys.executable, "-m", "pipelines.cli", "users", "add", role, "--role", role,
                                    "--password-stdin", "--db", str(self.db)], input=PASSWORD + "\n",
                                   cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
            if added.returncode != 0:
                raise RuntimeError(f"mfhc users add failed:\n{added.stdout}\n{added.stderr}")
        port = _free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
             "--timeout", "120", "dashboard.app:server"],
            cwd=ROOT, env={**env, "MFHC_DB": str(self.db)}, stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer within 90 s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log", None):
            self._log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


_SERVER: AppServer | None = None


def app_server() -> AppServer:
    global _SERVER
    if _SERVER is None:
        _SERVER = AppServer()
        try:
            _SERVER.start()
        except Exception:
            _SERVER.stop()
            raise
    return _SERVER


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def sign_in(context, base_url: str, role: str = "analyst") -> None:
    """Sign the browser context in through the real sign-in form (the account is named after its role)."""
    page = context.new_page()
    try:
        page.goto(base_url + "/login", wait_until="domcontentloaded")
        page.fill("#username", role)
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        if "/login" in page.url:
            raise RuntimeError(f"sign-in as {role} failed: {page.inner_text('body')[:300]}")
    finally:
        page.close()


def new_signed_in_context(browser, base_url: str, role: str = "analyst", **options):
    ctx = browser.new_context(viewport=VIEWPORT, **options)
    ctx.set_default_timeout(15_000)
    sign_in(ctx, base_url, role)
    return ctx


def discover_pages(server: AppServer) -> list[str]:
    """The paths of the navigation links as the browser renders them (query string dropped)."""
    if server.pages is None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = launch(playwright)
            try:
                ctx = new_signed_in_context(browser, server.base_url, "admin")
                page = ctx.new_page()
                page.goto(server.base_url + "/", wait_until="domcontentloaded")
                page.wait_for_selector("nav.site-nav a", timeout=30_000)
                hrefs = page.eval_on_selector_all("nav.site-nav a", "links => links.map(a => a.href)")
            finally:
                browser.close()
        server.pages = list(dict.fromkeys(urlsplit(href).path for href in hrefs))
    return server.pages


def page_name(path: str) -> str:
    return path.strip("/").replace("/", "-") or "overview"


def pytest_generate_tests(metafunc):
    if "page_path" not in metafunc.fixturenames:
        return
    if not CHROMIUM.exists():
        metafunc.parametrize("page_path", [pytest.param("/", marks=pytest.mark.skip(reason=SKIP_REASON))])
        return
    paths = discover_pages(app_server())
    metafunc.parametrize("page_path", paths, ids=[page_name(p) for p in paths])


def pytest_sessionfinish(session, exitstatus):
    global _SERVER
    if _SERVER is not None:
        _SERVER.stop()
        _SERVER = None


@pytest.fixture(scope="session")
def server() -> AppServer:
    if not CHROMIUM.exists():
        pytest.skip(SKIP_REASON)
    return app_server()


@pytest.fixture(scope="session")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser, server):
    """A browser context signed in as an analyst (who sees every page of the dashboard but the
    administration page)."""
    ctx = new_signed_in_context(browser, server.base_url, "analyst", accept_downloads=True)
    yield ctx
    ctx.close()
