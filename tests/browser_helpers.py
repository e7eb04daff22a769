"""Helpers for the browser tests (this module holds no tests): Chromium launch, login, colour contrast."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# the system's Chromium, never a downloaded one (the machines here have no route to a browser CDN)
CHROMIUM = Path(os.environ.get("POLICYBOT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "tests" / "artifacts"
DOCS = ROOT / "docs"


def screenshot_dirs(name: str) -> list[Path]:
    """Where a picture goes: always tests/artifacts; the README's own (docs/screenshot-*.png) also to docs/
    when POLICYBOT_UPDATE_SCREENSHOTS=1."""
    dirs = [ARTIFACTS]
    if name.startswith("screenshot-") and os.environ.get("POLICYBOT_UPDATE_SCREENSHOTS") == "1":
        dirs.append(DOCS)
    return dirs


# WCAG contrast of every visible text node under the given roots, from the colours the browser
# rendered: text colour and the stacked backgrounds behind it, both normalised through a canvas
# (so any CSS colour syntax the theme uses is read the same way) and alpha-composited.
CONTRAST_JS = """(selectors) => {
  const ctx = document.createElement('canvas').getContext('2d', {willReadFrequently: true});
  const rgba = (css) => { ctx.clearRect(0, 0, 1, 1); ctx.fillStyle = '#000'; ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1); const d = ctx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255]; };
  const over = (top, base) => [0, 1, 2].map(i => top[i] * top[3] + base[i] * (1 - top[3]));
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let base = [255, 255, 255];
    for (let i = layers.length - 1; i >= 0; i--) base = over(layers[i], base);
    return base;
  };
  const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const lum = (c) => 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  const out = [];
  for (const sel of selectors) {
    for (const root of document.querySelectorAll(sel)) {
      const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        const el = n.parentElement, text = n.textContent.trim();
        if (!text || !el || !el.getClientRects().length || el.closest('[hidden]')) continue;
        const s = getComputedStyle(el);
        if (s.visibility !== 'visible' || parseFloat(s.opacity) === 0) continue;
        let alpha = 1;  // an ancestor's opacity fades the text into what is behind it
        for (let e = el; e; e = e.parentElement) alpha *= parseFloat(getComputedStyle(e).opacity);
        const c = rgba(s.color);
        const bg = background(el), fg = over([c[0], c[1], c[2], c[3] * alpha], bg);
        const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
        out.push({text: text.slice(0, 40), ratio: (a + 0.05) / (b + 0.05), fg, bg});
      }
    }
  }
  return out;
}"""


def low_contrast(page: Any, selectors: list[str], minimum: float = 4.5) -> tuple[int, list[dict[str, Any]]]:
    """(number of text nodes checked, those below the minimum ratio)."""
    found = page.evaluate(CONTRAST_JS, selectors)
    return len(found), [f for f in found if f["ratio"] < minimum]
