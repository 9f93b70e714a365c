"""The published book as a reader's browser sees it: headless Chromium against the built site.

The book is built once per test session (``built_book`` in conftest.py) and
served from a thread on localhost.  Each page of ``_toc.yml`` is then opened in
Debian's Chromium through Playwright, as a first-time visitor (a fresh browser
context, so nothing is cached), once in light and once in dark mode.  One visit
records everything the tests below check: the HTTP status, console errors and
failed requests, the images, what the page downloaded (its weight as a
compressing web server would send it), an axe-core accessibility audit and a
screenshot in ``_build/screenshots/``.

These tests are required: when Chromium cannot start they fail, saying how to
install it.  Everything here is about the site, not the numbers in it.
"""

from __future__ import annotations

import functools
import gzip
import html.parser
import http.server
import json
import re
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from cloudpad.pipeline.project import Project

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    "The browser tests need Debian's Chromium at /usr/bin/chromium: install it with "
    "`apt-get install chromium` (as root), or run `make system-deps`; `make test` does that "
    "for you."
)
#: Largest page a first-time reader downloads: HTML, theme assets, scripts, fonts and images,
#: each as a web server compressing with gzip would send it.
PAGE_BUDGET_BYTES = 1_000_000
#: Content types a compressing web server gzips; everything else (PNG, WOFF2) goes as it is.
COMPRESSED_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")
NARROW = {"width": 390, "height": 844}  # a phone
WIDE = {"width": 1280, "height": 900}

pytestmark = pytest.mark.slow


# --- the site, served -----------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def html_dir(built_book: Project) -> Path:
    return built_book.build_dir / "html"


@pytest.fixture(scope="module")
def server(html_dir: Path):
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def toc_pages(built_book: Project) -> list[str]:
    """Every page of ``_toc.yml``, as a path under the site root (``notebooks/x/y.html``)."""
    return [f"{entry}.html" for entry in built_book.toc_entries()]


@pytest.fixture(scope="module")
def article_pages(built_book: Project) -> list[str]:
    return [
        built_book.relative(nb).with_suffix(".html").as_posix() for nb in built_book.notebooks()
    ]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import Error, sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}. {INSTALL_HINT}", pytrace=False)
    with sync_playwright() as p:
        try:
            chromium = p.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=60_000
            )
        except Error as exc:
            pytest.fail(f"Chromium ({CHROMIUM}) could not start: {exc}\n{INSTALL_HINT}", False)
        yield chromium
        chromium.close()


def _new_page(browser, mode: str = "light", viewport: dict | None = None):
    """A page in a fresh context (empty cache) that opens in ``mode``."""
    context = browser.new_context(
        viewport=viewport or WIDE, color_scheme=mode, service_workers="block"
    )
    # The theme keeps the reader's choice in localStorage; start every page in `mode`.
    context.add_init_script(
        f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');"
    )
    return context, context.new_page()


def _settle(page) -> None:
    """Wait until the page, its lazy parts, MathJax and the fonts it uses are done."""
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.evaluate(
        """async () => {
            if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
                await MathJax.startup.promise;
            }
            await document.fonts.ready;
        }"""
    )
    page.wait_for_load_state("networkidle")
    page.evaluate("window.scrollTo(0, 0)")


# --- one visit per page and mode -------------------------------------------------------------


@dataclass
class Visit:
    path: str
    mode: str
    status: int
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions
    failed: list[str] = field(default_factory=list)  # failed requests and HTTP errors
    images: list[dict] = field(default_factory=list)
    sent_bytes: dict[str, int] = field(default_factory=dict)  # url -> bytes as gzip would send
    violations: list[dict] = field(default_factory=list)  # axe, serious or critical

    @property
    def weight(self) -> int:
        return sum(self.sent_bytes.values())


def _sent_size(body: bytes, content_type: str) -> int:
    if content_type.startswith(COMPRESSED_TYPES):
        return len(gzip.compress(body, compresslevel=6, mtime=0))
    return len(body)


def _visit(browser, server: str, path: str, mode: str, context=None) -> Visit:
    """Open ``path`` in ``mode``: in a fresh context (empty cache), or in ``context``."""
    from axe_playwright_python.sync_playwright import Axe

    shared = context is not None
    if shared:
        page = context.new_page()
    else:
        context, page = _new_page(browser, mode)
    errors: list[str] = []
    failed: list[str] = []
    responses = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: responses.append(r))
    try:
        response = page.goto(f"{server}/{path}", wait_until="load")
        _settle(page)
        visit = Visit(path, mode, response.status if response else 0, errors, failed)
        for r in responses:
            if r.status >= 400:
                failed.append(f"{r.url} (HTTP {r.status})")
            elif r.status < 300:
                content_type = (r.headers.get("content-type") or "").split(";")[0]
                visit.sent_bytes[r.url] = _sent_size(r.body(), content_type)
        visit.images = page.eval_on_selector_all(
            "img",
            """imgs => imgs.map(img => ({
                src: img.getAttribute('src'), alt: img.getAttribute('alt'),
                loaded: img.complete && img.naturalWidth > 0,
                visible: img.getClientRects().length > 0,
            }))""",
        )
        # What the page itself did; axe-core below makes requests of its own.
        visit.errors, visit.failed = list(errors), list(failed)
        result = Axe().run(page)
        visit.violations = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"][:5]],
            }
            for v in result.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = path.removesuffix(".html").replace("/", "__")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{mode}.png"), full_page=True)
        return visit
    finally:
        page.close()
        if not shared:
            context.close()


@pytest.fixture(scope="module")
def visits(browser, server, toc_pages) -> dict[tuple[str, str], Visit]:
    """Every toc page, and the search page, opened once in light and once in dark mode.

    Light-mode visits start with an empty cache (a first-time reader: their
    downloads are the page weight); dark-mode ones share one context, as a reader
    moving from page to page would.
    """
    pages = [*toc_pages, "search.html"]
    found = {(p, "light"): _visit(browser, server, p, "light") for p in pages}
    dark, _ = _new_page(browser, "dark")
    try:
        found |= {(p, "dark"): _visit(browser, server, p, "dark", dark) for p in pages}
    finally:
        dark.close()
    return found


def test_every_page_loads_without_errors(visits):
    problems = []
    for (path, mode), v in visits.items():
        if v.status != 200:
            problems.append(f"{path} [{mode}]: HTTP {v.status}")
        problems += [f"{path} [{mode}]: console: {e}" for e in v.errors]
        problems += [f"{path} [{mode}]: request failed: {f}" for f in v.failed]
    assert not problems, "\n".join(problems)


def test_images_load_and_have_alt_text(visits):
    problems = []
    for (path, mode), v in visits.items():
        for img in v.images:
            if not img["loaded"]:
                problems.append(f"{path} [{mode}]: image {img['src']} did not load")
            if img["visible"] and not (img["alt"] or "").strip():
                problems.append(f"{path} [{mode}]: image {img['src']} has no alt text")
    assert not problems, "\n".join(problems)


def test_no_serious_accessibility_violations_in_light_and_dark_mode(visits):
    found = [
        f"{path} [{mode}]: {x['impact']} {x['id']}: {x['help']} at {x['nodes']}"
        for (path, mode), v in visits.items()
        for x in v.violations
    ]
    assert not found, "axe-core (serious or critical):\n" + "\n".join(found)


def test_every_page_weighs_at_most_1_mb_gzipped(visits):
    weights = {path: v for (path, mode), v in visits.items() if mode == "light"}
    report = {
        path: {
            "bytes": v.weight,
            "largest": sorted(v.sent_bytes.items(), key=lambda kv: -kv[1])[:5],
        }
        for path, v in sorted(weights.items(), key=lambda kv: -kv[1].weight)
    }
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "page-weight.json").write_text(json.dumps(report, indent=1) + "\n")
    heaviest, v = max(weights.items(), key=lambda kv: kv[1].weight)
    print(f"\nheaviest page: {heaviest}, {v.weight:,} bytes gzipped (budget {PAGE_BUDGET_BYTES:,})")
    # What _templates/ and _static/book.css keep out of every page (1.5 MB of script
    # and a 118 kB font for one icon), in case a theme update brings them back.
    for path, v in weights.items():
        for url in v.sent_bytes:
            assert "fontawesome.js" not in url and "fa-brands" not in url, f"{path}: {url}"
    over = {p: r for p, r in report.items() if r["bytes"] > PAGE_BUDGET_BYTES}
    assert not over, f"pages over {PAGE_BUDGET_BYTES:,} bytes gzipped: {json.dumps(over, indent=1)}"


def test_articles_show_figures_with_captions_and_no_errors(browser, server, article_pages):
    context, page = _new_page(browser)
    try:
        for path in article_pages:
            page.goto(f"{server}/{path}")
            assert len(page.locator("main h1").first.inner_text()) > 5, f"{path}: no title"
            figures = page.locator("main figure")
            assert figures.count() >= 3, f"{path}: {figures.count()} figures"
            for i in range(figures.count()):
                caption = figures.nth(i).locator("figcaption").inner_text().strip()
                assert caption, f"{path}: figure {i + 1} has no caption"
            text = page.locator("main").inner_text()
            assert "Traceback" not in text, f"{path}: an error output is shown"
            # Warnings and stderr are not for readers (execute.stderr_output: remove).
            assert page.locator("main .output.stderr").count() == 0, f"{path}: stderr shown"
            assert "Warning:" not in text, f"{path}: a warning is shown"
            # The reference list is rendered, and every citation in the text points into it.
            entries = page.locator("main section#references aside.footnote")
            assert entries.count() > 0, f"{path}: no entries under References"
            cited = page.locator("main a.footnote-reference").evaluate_all(
                "links => links.map(a => a.getAttribute('href'))"
            )
            listed = {f"#{i}" for i in entries.evaluate_all("els => els.map(e => e.id)")}
            assert cited and set(cited) <= listed, f"{path}: citations without an entry"
            # Copy buttons on the code readers can see, download buttons for the notebook.
            if page.locator("main div.highlight pre").count():
                assert page.locator("main button.copybtn").count() > 0, f"{path}: no copy button"
            downloads = page.locator(".dropdown-download-buttons a").evaluate_all(
                "links => links.map(a => a.getAttribute('href'))"
            )
            assert any(h.endswith(".ipynb") for h in downloads), f"{path}: no .ipynb download"
            # ... and a link to the notebook's source in the repository.
            notebook = path.removesuffix(".html") + ".ipynb"
            source = page.locator(f"a[href*='/blob/'][href*='{notebook}']")
            assert source.count() > 0, f"{path}: no link to its source in the repository"
    finally:
        context.close()


# --- layout: content width, wide tables, code ------------------------------------------------

OVERFLOW_JS = """() => {
    const problems = [];
    const root = document.documentElement;
    if (root.scrollWidth > window.innerWidth + 1) {
        // Name the culprit: the deepest element whose removal ends the sideways scroll.
        const path = [];
        for (let el = document.body, next; el; el = next) {
            next = [...el.children].find(c => {
                const display = c.style.display;
                c.style.display = 'none';
                const fixed = root.scrollWidth <= window.innerWidth + 1;
                c.style.display = display;
                return fixed;
            });
            if (next) {
                const cls = next.className ? '.' + String(next.className).split(' ')[0] : '';
                path.push(next.tagName.toLowerCase() + (next.id ? '#' + next.id : '') + cls);
            }
        }
        problems.push(`the page scrolls sideways: ${root.scrollWidth}px in ${window.innerWidth}px,`
                      + ` because of ${path.slice(-3).join(' > ')}`);
    }
    const article = document.querySelector('main article') || document.querySelector('main');
    const right = article.getBoundingClientRect().right;
    const scrolls = el => {
        for (let e = el.parentElement; e && e !== article; e = e.parentElement) {
            const o = getComputedStyle(e).overflowX;
            if ((o === 'auto' || o === 'scroll') && e.getBoundingClientRect().right <= right + 1) {
                return true;
            }
        }
        return false;
    };
    for (const el of article.querySelectorAll('table, pre, img, mjx-container[display="true"]')) {
        const box = el.getBoundingClientRect();
        if (box.width === 0 || box.right <= right + 1) continue;
        const self = getComputedStyle(el).overflowX;
        const selfScrolls = (self === 'auto' || self === 'scroll') && el.clientWidth > 0;
        if (!selfScrolls && !scrolls(el)) {
            problems.push(`${el.tagName.toLowerCase()} runs ${Math.round(box.right - right)}px `
                          + `past the column: ${el.outerHTML.slice(0, 80)}`);
        }
    }
    return problems;
}"""


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["desktop", "phone"])
def test_tables_code_and_figures_stay_in_the_column(browser, server, toc_pages, viewport):
    context, page = _new_page(browser, viewport=viewport)
    problems = []
    try:
        for path in toc_pages:
            page.goto(f"{server}/{path}")
            page.wait_for_load_state("networkidle")
            problems += [
                f"{path} at {viewport['width']}px: {p}" for p in page.evaluate(OVERFLOW_JS)
            ]
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_prose_has_a_readable_width(browser, server, article_pages):
    """Lines of body text stay under about 90 characters on a wide screen."""
    context, page = _new_page(browser, viewport={"width": 1600, "height": 900})
    try:
        page.goto(f"{server}/{article_pages[0]}")
        chars = page.evaluate(
            """() => {
                const p = document.querySelector('main article section > p');
                const probe = document.createElement('span');
                probe.style.cssText = 'position: absolute; visibility: hidden; white-space: nowrap';
                probe.textContent = 'abcdefghijklmnopqrstuvwxyz'.repeat(4);
                p.appendChild(probe);
                const perChar = probe.getBoundingClientRect().width / 104;
                probe.remove();
                return p.getBoundingClientRect().width / perChar;
            }"""
        )
    finally:
        context.close()
    assert 45 <= chars <= 95, f"a line of prose holds about {chars:.0f} characters"


# --- dark mode --------------------------------------------------------------------------------

CONTRAST_JS = """() => {
    const rgb = c => c.match(/[\\d.]+/g).map(Number);
    const lum = c => {
        const [r, g, b] = rgb(c).slice(0, 3).map(v => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const background = el => {
        for (let e = el; e; e = e.parentElement) {
            const c = getComputedStyle(e).backgroundColor;
            if (rgb(c).length < 4 || rgb(c)[3] > 0) return c;
        }
        return 'rgb(255, 255, 255)';
    };
    const p = document.querySelector('main article p');
    const fg = getComputedStyle(p).color, bg = background(p);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const figures = [...document.querySelectorAll('main figure img')]
        .map(img => lum(background(img)));
    return {
        theme: document.documentElement.dataset.theme,
        fg, bg, ratio: (hi + 0.05) / (lo + 0.05), backgroundLuminance: lum(bg), figures,
    };
}"""


def test_dark_mode_toggles_and_text_keeps_its_contrast(browser, server, article_pages):
    context, page = _new_page(browser, "light")
    try:
        page.goto(f"{server}/{article_pages[0]}")
        page.wait_for_load_state("networkidle")
        light = page.evaluate(CONTRAST_JS)
        assert light["theme"] == "light"
        button = page.locator(".theme-switch-button:visible").first
        for _ in range(3):  # the switch cycles through light, dark and the system's choice
            if page.evaluate("document.documentElement.dataset.theme") == "dark":
                break
            button.click()
        dark = page.evaluate(CONTRAST_JS)
    finally:
        context.close()
    assert dark["theme"] == "dark", "the colour-mode button did not switch to dark mode"
    assert dark["backgroundLuminance"] < 0.1 < light["backgroundLuminance"], (light, dark)
    for mode in (light, dark):
        assert mode["ratio"] >= 7, f"body text contrast {mode['ratio']:.1f}:1 ({mode})"
    # Figures are drawn for a light page: in dark mode they sit on a light panel.
    assert dark["figures"] and min(dark["figures"]) > 0.8, dark["figures"]


# --- search -----------------------------------------------------------------------------------


def _body_word(page) -> str:
    """A long word that occurs often in the prose of the open article."""
    text = page.locator("main article section > p").all_inner_texts()
    title = page.locator("main h1").first.inner_text().lower()
    words = Counter(
        w.lower() for w in re.findall(r"[A-Za-z]{8,}", " ".join(text)) if w.lower() not in title
    )
    return words.most_common(1)[0][0]


def test_search_finds_each_article_by_a_word_from_its_body(browser, server, article_pages):
    context, page = _new_page(browser)
    try:
        for path in article_pages:
            page.goto(f"{server}/{path}")
            word = _body_word(page)
            page.goto(f"{server}/search.html?q={urllib.parse.quote(word)}")
            # Results arrive one page at a time; the summary appears once the search is done.
            page.wait_for_function(
                """() => /finished|did not match/.test(
                    document.querySelector('#search-results p.search-summary')?.innerText || '')""",
                timeout=30_000,
            )
            found = page.locator("#search-results ul.search li a").evaluate_all(
                "links => links.map(a => a.getAttribute('href'))"
            )
            assert any(path in (h or "") for h in found), f"searching {word!r}: {found}"
    finally:
        context.close()


# --- links --------------------------------------------------------------------------------------


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.add(a[key])
        for key in ("href", "src"):
            if a.get(key) and not (tag == "link" and a.get("rel") in ("canonical",)):
                self.links.append(a[key])


def test_every_internal_link_and_anchor_resolves(server, toc_pages):
    """Crawl the site from its front page: every internal link answers 200, every #anchor exists."""
    fetched: dict[str, tuple[int, _Links | None]] = {}

    def fetch(url: str) -> tuple[int, _Links | None]:
        if url not in fetched:
            try:
                with urllib.request.urlopen(url) as resp:
                    body = resp.read()
                    parsed = None
                    if resp.headers.get_content_type() == "text/html":
                        parsed = _Links()
                        parsed.feed(body.decode("utf-8"))
                    fetched[url] = (resp.status, parsed)
            except urllib.error.HTTPError as exc:
                fetched[url] = (exc.code, None)
        return fetched[url]

    broken = []
    queue = [f"{server}/index.html", *(f"{server}/{p}" for p in toc_pages)]
    seen = set(queue)
    while queue:
        page_url = queue.pop()
        status, parsed = fetch(page_url)
        if parsed is None:
            continue
        for link in parsed.links:
            target = urllib.parse.urljoin(page_url, link)
            if not target.startswith(server + "/"):
                continue  # other sites are not checked here (the tests run offline)
            address, _, anchor = target.partition("#")
            status, linked = fetch(address)
            if status != 200:
                broken.append(f"{page_url}: {link} -> HTTP {status}")
            elif anchor and linked is not None and urllib.parse.unquote(anchor) not in linked.ids:
                broken.append(f"{page_url}: {link} -> no element with id {anchor!r}")
            if linked is not None and address not in seen:
                seen.add(address)
                queue.append(address)
    assert len(seen) >= len(toc_pages)
    assert not broken, "\n".join(sorted(set(broken)))


# --- what search engines and link previews read -------------------------------------------------


def _config(built_book: Project) -> dict:
    return yaml.safe_load((built_book.root / "_config.yml").read_text())


class _Meta(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and a.get("property", "").startswith("og:"):
            self.meta[a["property"]] = a.get("content") or ""


def test_sitemap_lists_every_page(built_book, html_dir, toc_pages):
    base = _config(built_book)["html"]["baseurl"]
    assert base.startswith("https://") and base.endswith("/")
    tree = ElementTree.parse(html_dir / "sitemap.xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = {loc.text for loc in tree.getroot().findall("s:url/s:loc", ns)}
    missing = [p for p in toc_pages if base + p not in locs]
    assert not missing, f"not in sitemap.xml: {missing} (it has {sorted(locs)[:5]}...)"
    robots = (html_dir / "robots.txt").read_text()
    assert f"Sitemap: {base}sitemap.xml" in robots


def test_every_page_has_open_graph_title_and_description(built_book, html_dir, toc_pages):
    base = _config(built_book)["html"]["baseurl"]
    problems = []
    for path in toc_pages:
        text = (html_dir / path).read_text(encoding="utf-8")
        parser = _Meta()
        parser.feed(text)
        meta = parser.meta
        title = html.unescape(re.search(r"<title>(.*?)</title>", text, re.S).group(1))
        if not meta.get("og:title") or not title.startswith(meta["og:title"]):
            problems.append(f"{path}: og:title {meta.get('og:title')!r}, page title {title!r}")
        description = meta.get("og:description", "")
        if len(description) < 40 or description.startswith("Last executed"):
            problems.append(f"{path}: og:description {description!r}")
        if meta.get("og:url") != base + path:
            problems.append(f"{path}: og:url {meta.get('og:url')!r}")
        if not meta.get("og:image", "").startswith(base):
            problems.append(f"{path}: og:image {meta.get('og:image')!r}")
    assert not problems, "\n".join(problems)
