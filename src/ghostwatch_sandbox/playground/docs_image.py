"""`make docs-image`: the README's picture of the digest, drawn from what the demo delivers.

Runs `make demo`'s daemon once (playground/demo.py) into a folder, takes the digest it put
into the Gmail sandbox's inbox (`digest-google.html`), and has headless Chromium draw it at
a desktop width, the page's whole height (measured by Chromium first, in a wrapper page:
the digest itself carries no script). The picture cannot drift from the code, since the
code draws it; tests/system/test_digest_browser.py checks docs/digest.png is what this
draws now.

    python -m ghostwatch_sandbox.playground.docs_image --out out/demo --png docs/digest.png
"""

from __future__ import annotations

import argparse
import contextlib
import html
import io
import json
import re
import shutil
import subprocess  # nosec B404: runs Chromium, a fixed program, with our own arguments
import tempfile
from pathlib import Path

from ghostwatch_sandbox.playground import demo

WIDTH = 800  # a desktop mail client's reading pane

_MEASURE = (
    "window.addEventListener('load', () => {"
    " const doc = document.getElementById('d').contentDocument;"
    " document.getElementById('h').textContent ="
    " JSON.stringify(Math.ceil(doc.body.getBoundingClientRect().bottom)); });"
)


def chromium_binary() -> str:
    found = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
    if found is None:
        raise SystemExit("chromium is not installed: `make browser` installs Debian's")
    return found


def chromium(*args: str, profile: Path, window: tuple[int, int]) -> str:
    """Headless Chromium once, quietly and offline; its stdout."""
    command = [
        chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
        f"--window-size={window[0]},{window[1]}", *args,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)  # nosec B603
    if done.returncode != 0:
        raise SystemExit(f"chromium failed: {done.stderr[-2000:]}")
    return done.stdout


def height(page: Path, width: int, work: Path) -> int:
    """The digest's content height at `width`, as Chromium lays it out."""
    frame = html.escape(page.read_text(encoding="utf-8"), quote=True)
    wrapper = work / "measure.html"
    wrapper.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body style='margin:0'>"
        f"<iframe id='d' width='{width}' height='6000' style='border:0' srcdoc=\"{frame}\">"
        f"</iframe><pre id='h'></pre><script>{_MEASURE}</script></body></html>",
        encoding="utf-8",
    )
    dom = chromium("--dump-dom", wrapper.as_uri(), profile=work / "measure", window=(1200, 900))
    found = re.search(r"<pre id=\"h\">(\d+)</pre>", dom)
    if found is None:
        raise SystemExit("chromium measured nothing: no height in the dumped page")
    return int(json.loads(found.group(1)))


def draw(page: Path, png: Path, width: int = WIDTH) -> tuple[int, int]:
    """A screenshot of `page`, the whole of it at `width`; its size."""
    with tempfile.TemporaryDirectory(prefix="ghostwatch-shot-") as folder:
        work = Path(folder)
        tall = height(page, width, work)
        png.parent.mkdir(parents=True, exist_ok=True)
        chromium(f"--screenshot={png}", page.as_uri(), profile=work / "shot",
                 window=(width, tall))  # fmt: skip
    return width, tall


def demo_digest(out: Path, mailbox: Path = Path("examples/mailbox")) -> Path:
    """The demo run once into `out`; the Gmail account's delivered digest (HTML)."""
    with contextlib.redirect_stdout(io.StringIO()):
        status = demo.main(["--mailbox", str(mailbox), "--out", str(out)])
    if status != 0:
        raise SystemExit(f"the demo failed (exit {status}): run `make demo` to see why")
    return out / "digest-google.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mailbox", type=Path, default=Path("examples/mailbox"))
    parser.add_argument("--out", type=Path, default=Path("out/demo"))
    parser.add_argument("--png", type=Path, default=Path("docs/digest.png"))
    args = parser.parse_args(argv)
    width, tall = draw(demo_digest(args.out.resolve(), args.mailbox), args.png.resolve())
    print(f"wrote {args.png}: the demo's digest, {width}×{tall} px")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
