"""The HTML reports in a real headless Chromium: they render, log nothing, and show what they should.

Chromium comes from Debian (``apt-get install chromium``), installed here when missing. When
it cannot be installed the tests are skipped on a developer's machine and fail when
``GOVKIT_REQUIRE_SERVERS=1`` (CI), so CI cannot pass by skipping them.

The screenshot is checked by decoding the PNG with the standard library (zlib plus the PNG
row filters) over the top of the page, where the header, the summary cards and the charts
are: a blank or failed render is one colour there.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from govkit.report import render_audit_view, render_ropa
from tests.report.conftest import SCRIPT_COLUMN, Scanned

pytestmark = pytest.mark.slow

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
CONSOLE = re.compile(r":CONSOLE[:(]")



def _run(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def _console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if CONSOLE.search(line)]


def decode_png_rows(data: bytes, max_rows: int) -> tuple[int, int, list[bytes]]:
    """Width, height and up to ``max_rows`` unfiltered rows of an 8-bit RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, bytearray(), b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, interlace) == (8, 0), f"unexpected PNG format {depth=} {interlace=}"
    assert color in (2, 6), f"unexpected PNG colour type {color}"
    bpp = 3 if color == 2 else 4
    stride = width * bpp
    raw = zlib.decompressobj().decompress(bytes(idat), (stride + 1) * max_rows)
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(min(max_rows, height, len(raw) // (stride + 1))):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def _colours(rows: list[bytes]) -> set[bytes]:
    return {row[i:i + 3] for row in rows for i in range(0, len(row), 3 * 7)}  # every 7th pixel is plenty


def test_png_decoder_sees_a_blank_image_as_blank() -> None:
    """The non-blank check must be able to fail: a one-colour PNG decodes to one colour."""
    width, height = 16, 4
    raw = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    w, h, rows = decode_png_rows(png, 10)
    assert (w, h, len(rows)) == (16, 4, 4)
    assert _colours(rows) == {b"\xff\xff\xff"}


def test_console_errors_are_detected(chromium: str, tmp_path: Path) -> None:
    """The console check must be able to fail: a page that throws is caught."""
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><p>x</p><script>undefined_function()</script>", encoding="utf-8")
    result = _run(chromium, tmp_path / "profile", "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri())
    assert any("undefined_function" in line for line in _console_lines(result.stderr)), result.stderr[-2000:]


def test_audit_report_renders_in_chromium(chromium: str, scanned: Scanned, tmp_path: Path) -> None:
    report = tmp_path / "audit.html"
    report.write_text(render_audit_view(scanned.audit, "html", scanned.root), encoding="utf-8")
    screenshot = tmp_path / "audit.png"
    shot = _run(chromium, tmp_path / "profile", f"--screenshot={screenshot}", "--window-size=1280,2000",
                report.as_uri())
    assert screenshot.is_file(), shot.stderr[-2000:]
    width, height, rows = decode_png_rows(screenshot.read_bytes(), 700)
    assert (width, height) == (1280, 2000)
    assert len(_colours(rows)) > 20, "the top of the page is (nearly) blank"
    if os.environ.get("GOVKIT_KEEP_SCREENSHOT"):
        shutil.copyfile(screenshot, os.environ["GOVKIT_KEEP_SCREENSHOT"])

    dom = _run(chromium, tmp_path / "profile", "--enable-logging=stderr", "--v=0", "--dump-dom", report.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert _console_lines(dom.stderr) == []
    html = dom.stdout
    for table in ("risks", "inventory", "violations", "retention", "sources", "changes"):
        assert f'<table class="{table}">' in html, table
    charts = re.findall(r'<figure id="(chart-[a-z]+)">\s*<figcaption>[^<]*</figcaption>\s*<svg[^>]*>(.*?)</svg>',
                        html, re.S)
    assert [name for name, _ in charts] == ["chart-category", "chart-sensitivity", "chart-history"]
    assert all("<rect" in body for _, body in charts)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text ...
    assert "<script" not in html.lower()
    assert SCRIPT_COLUMN not in html


def test_ropa_renders_in_chromium(chromium: str, scanned: Scanned, tmp_path: Path) -> None:
    report = tmp_path / "ropa.html"
    report.write_text(render_ropa(scanned.ropa, "html", scanned.root), encoding="utf-8")
    dom = _run(chromium, tmp_path / "profile", "--enable-logging=stderr", "--v=0", "--dump-dom", report.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert _console_lines(dom.stderr) == []
    assert '<table class="ropa">' in dom.stdout
    assert dom.stdout.count('class="undeclared"') == len(scanned.ropa.undeclared)


#: Injected into a copy of a report (the reports themselves have no scripts): the layout facts
#: at the window's width, written into the DOM for --dump-dom to show.
_LAYOUT_PROBE = """<script>
window.addEventListener("load", () => {
  const width = document.documentElement.clientWidth;
  const over = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    let clipped = false;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (style.overflowX === "auto" || style.overflowX === "scroll" || style.overflowX === "hidden") {
        clipped = true; break;
      }
    }
    if (!clipped && box.width > 0 && box.right > width + 1) {
      const named = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "");
      over.push(named + ":" + Math.round(box.right));
    }
  }
  const out = document.createElement("pre");
  out.id = "layout-probe";
  out.textContent = JSON.stringify({viewport: width, scroll: document.documentElement.scrollWidth,
                                    over: over.slice(0, 20)});
  document.body.appendChild(out);
});
</script>"""


def _layout(chromium: str, html: str, tmp_path: Path, width: int) -> dict[str, object]:
    import json

    page = tmp_path / f"probe-{width}.html"
    page.write_text(html.replace("</body>", _LAYOUT_PROBE + "</body>"), encoding="utf-8")
    dom = _run(chromium, tmp_path / "profile", f"--window-size={width},1000", "--virtual-time-budget=5000",
               "--dump-dom", page.as_uri())
    found = re.search(r'<pre id="layout-probe">(.*?)</pre>', dom.stdout, re.S)
    assert found, dom.stderr[-2000:]
    return dict(json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&")))


@pytest.mark.parametrize("kind", ["audit", "ropa"])
def test_reports_have_no_horizontal_overflow_at_1280_pixels(chromium: str, scanned: Scanned, tmp_path: Path,
                                                            kind: str) -> None:
    """Issue 17: a layout fact, not a picture. Nothing pokes out of a 1280 px window (a wide
    table may scroll inside its own box), and the page itself never scrolls sideways."""
    html = (render_audit_view(scanned.audit, "html", scanned.root) if kind == "audit"
            else render_ropa(scanned.ropa, "html", scanned.root))
    facts = _layout(chromium, html, tmp_path, 1280)
    assert facts["over"] == [], facts
    assert facts["scroll"] == facts["viewport"], facts


def test_layout_probe_sees_an_overflow(chromium: str, tmp_path: Path) -> None:
    """The overflow check must be able to fail: a 2000 px table pokes out of 1280 px."""
    html = ("<!DOCTYPE html><html><body><table style='width:2000px'><tr><td>wide</td></tr></table>"
            "<div style='overflow-x:auto'><table style='width:3000px'><tr><td>scrolls</td></tr></table></div>"
            "</body></html>")
    facts = _layout(chromium, html, tmp_path, 1280)
    assert facts["scroll"] > 1280
    over = facts["over"]
    assert isinstance(over, list)
    assert any(str(item).startswith("table:") for item in over)
    assert all("3000" not in str(item) for item in over)  # the one in a scrolling box is fine
