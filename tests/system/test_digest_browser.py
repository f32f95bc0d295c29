"""The digest in a real browser engine: headless Chromium renders it, we measure and look.

Chromium is driven from the command line only (`--dump-dom`, `--screenshot`), so the
test needs no Python browser library. The digest itself stays script-free: the
measuring script lives in a wrapper page in the test's temporary folder, which shows
the digest in `srcdoc` iframes (same origin as the wrapper, so the script may read
their layout) at a desktop and a phone width.

`make install` installs Debian's `chromium` when it can; without it these tests skip.
docs/digest.png (the README's picture) must be what `make docs-image` draws from the demo's
digest now: when the digest changes, run it and commit the picture.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ghostwatch_sandbox.playground import docs_image
from tests.compose.test_digest import example_digest
from tests.compose.test_digest_notice import not_signed_in, trouble
from tests.support.paths import REPO

ROOT = REPO
ARTIFACTS = ROOT / "tests" / "artifacts"
DOCS_IMAGE = ROOT / "docs" / "digest.png"
DESKTOP, PHONE = 800, 375
HEADINGS = ["Needs you today", "Waiting", "Let go", "Your numbers"]

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser")) if p),
    None,
)
pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="chromium is not installed (`make install` installs Debian's chromium where "
        "apt-get is available): the browser rendering test cannot run",
    ),
]

# Runs inside the wrapper only. For each frame: the page's widths and height, the
# headings, and every element whose box sticks out past the frame's right edge.
MEASURE = """
function measure(frame) {
  const doc = frame.contentDocument, win = frame.contentWindow;
  const wide = [];
  for (const el of doc.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > win.innerWidth + 1) {
      wide.push(el.tagName + ' ' + Math.round(box.right));
    }
  }
  const card = doc.querySelector('table[style*="max-width:640px"]');
  return {
    viewport: win.innerWidth,
    scrollWidth: doc.documentElement.scrollWidth,
    bodyScrollWidth: doc.body.scrollWidth,
    scrollHeight: doc.documentElement.scrollHeight,
    contentHeight: Math.ceil(doc.body.getBoundingClientRect().bottom),
    cardWidth: card ? Math.round(card.getBoundingClientRect().width) : null,
    cardRight: card ? Math.round(card.getBoundingClientRect().right) : null,
    headings: Array.from(doc.querySelectorAll('h2')).map(h => h.textContent.trim()),
    notice: (() => {
      const n = doc.getElementById('trouble'), h = doc.querySelector('h2');
      if (!n) return null;
      const box = n.parentElement.getBoundingClientRect();
      const heading = h.getBoundingClientRect().top;
      return {right: Math.round(box.right), bottom: box.bottom, firstHeading: heading};
    })(),
    overflowing: wide.slice(0, 20),
  };
}
window.addEventListener('load', () => {
  const out = {};
  for (const frame of document.querySelectorAll('iframe')) out[frame.id] = measure(frame);
  document.getElementById('metrics').textContent = JSON.stringify(out);
});
"""


def chromium(*args: str, profile: Path, window: tuple[int, int]) -> str:
    """Run headless Chromium once, quietly and offline; return its stdout."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # tests run as root in containers
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={window[0]},{window[1]}",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def wrapper(digest_html: str) -> str:
    frames = "".join(
        f'<iframe id="w{width}" width="{width}" height="6000" style="border:0;display:block" '
        f'srcdoc="{html.escape(digest_html, quote=True)}"></iframe>'
        for width in (DESKTOP, PHONE)
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body style='margin:0'>"
        f"{frames}<pre id='metrics'></pre><script>{MEASURE}</script></body></html>"
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return render(tmp_path_factory.mktemp("digest-browser"), example_digest().html)


@pytest.fixture(scope="module")
def troubled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same digest with the notice of failed checks at the top."""
    digest = example_digest(trouble=trouble(not_signed_in()))
    return render(tmp_path_factory.mktemp("digest-browser-trouble"), digest.html)


def render(folder: Path, digest_html: str) -> dict[str, Any]:
    page = folder / "digest.html"
    page.write_text(digest_html, encoding="utf-8")
    measuring = folder / "measure.html"
    measuring.write_text(wrapper(page.read_text(encoding="utf-8")), encoding="utf-8")
    dom = chromium("--dump-dom", measuring.as_uri(), profile=folder / "profile", window=(1200, 900))
    found = re.search(r"<pre id=\"metrics\">(.*?)</pre>", dom, re.S)
    assert found is not None, "no metrics element in the dumped DOM"
    assert found.group(1), "the wrapper's script wrote no metrics"
    metrics: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return {"page": page, "folder": folder, "metrics": metrics}


@pytest.mark.parametrize("page", ["rendered", "troubled"])
@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_digest_has_every_section_and_no_horizontal_overflow(
    request: pytest.FixtureRequest, page: str, width: int
) -> None:
    m = request.getfixturevalue(page)["metrics"][f"w{width}"]
    assert m["viewport"] == width
    assert m["headings"] == HEADINGS
    assert m["overflowing"] == [], "elements wider than the window"
    assert m["scrollWidth"] <= width
    assert m["bodyScrollWidth"] <= width
    # The card is at most 640 px wide, and fills a phone screen less its margins.
    assert m["cardWidth"] is not None
    assert m["cardWidth"] <= 642
    assert m["cardWidth"] >= min(width - 24, 640)
    # Sane height: the example's content, neither collapsed nor blown up.
    assert 1500 <= m["contentHeight"] <= 5000
    if page == "troubled":  # the notice is drawn, inside the card, above the sections
        assert m["notice"] is not None
        assert m["notice"]["right"] < m["cardRight"] <= width
        assert m["notice"]["bottom"] < m["notice"]["firstHeading"]
    else:
        assert m["notice"] is None


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


@pytest.mark.parametrize(("width", "name"), [(DESKTOP, "digest.png"), (PHONE, "digest-phone.png")])
def test_screenshot_is_kept_as_an_artefact(rendered: dict[str, Any], width: int, name: str) -> None:
    # The whole page: as tall as the layout measured at this width.
    height = rendered["metrics"][f"w{width}"]["contentHeight"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / name
    shot.unlink(missing_ok=True)
    chromium(
        f"--screenshot={shot}",
        rendered["page"].as_uri(),
        profile=rendered["folder"] / f"profile-{width}",
        window=(width, height),
    )
    assert png_size(shot) == (width, height)
    assert shot.stat().st_size > 20_000  # a blank page compresses to a few kB


def test_the_readme_picture_is_what_make_docs_image_draws_now(tmp_path: Path) -> None:
    """Issue 16: docs/digest.png had drifted from the digest the code writes. Chromium
    draws the same page to the same bytes on one machine image (the project's only kind)."""
    page = docs_image.demo_digest(tmp_path / "demo", REPO / "examples" / "mailbox")
    drawn = tmp_path / "digest.png"
    docs_image.draw(page, drawn)
    stale = "docs/digest.png is not the demo's digest as the code draws it: run `make docs-image`"
    assert png_size(drawn) == png_size(DOCS_IMAGE), stale
    assert drawn.read_bytes() == DOCS_IMAGE.read_bytes(), stale
