"""Open every page of the built book in headless Chromium and fail on what a reader would see broken.

For each page it checks:

- math that MathJax did not render (or rendered as an error);
- images that did not load;
- ``??`` in the text, or a cross-reference Sphinx could not resolve;
- errors in the browser console;
- figures in notebook outputs that are empty (a blank, single-colour image);

and saves a screenshot under ``--screens``. The machine is offline, so the page is
served from a local copy whose MathJax comes from ``--mathjax`` (an ``es5`` folder of
MathJax 3) instead of the CDN.

    python tools/browser_check.py _build/html --mathjax _build/mathjax/es5 --screens _build/screens

Exit status 1 when any page has a problem; the report lists every one.
"""

import argparse
import functools
import http.server
import re
import shutil
import sys
import tempfile
import threading
from pathlib import Path

MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"
LOCAL_MATHJAX = "/_mathjax/tex-mml-chtml.js"
SCRIPT_TIMEOUT = 120
SKIPPED_PAGES = {"genindex.html", "search.html", "py-modindex.html"}
# Sphinx writes the root index.html as a bare meta-refresh to the first page. Probing it
# races the navigation (the script's page goes away), so it is checked for its target only.
REDIRECT = re.compile(r'<meta http-equiv="refresh" content="\d+;\s*url=([^"]+)"', re.IGNORECASE)

# Runs in the page; returns a list of problems. Waits for MathJax and for every image.
PAGE_PROBE = r"""
const done = arguments[arguments.length - 1];
(async () => {
  const problems = [];
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    try { await MathJax.startup.promise; } catch (e) { problems.push('MathJax failed: ' + e); }
  }
  const settled = img => img.complete ? null :
      new Promise(resolve => { img.onload = img.onerror = resolve; setTimeout(resolve, 15000); });
  await Promise.all([...document.images].map(settled));

  const mathNodes = [...document.querySelectorAll('.math')];
  const raw = mathNodes.filter(node => !node.querySelector('mjx-container'));
  if (raw.length) problems.push(`${raw.length} of ${mathNodes.length} math elements not rendered, e.g. ` +
      JSON.stringify(raw[0].textContent.slice(0, 60)));
  const errors = document.querySelectorAll('mjx-merror');
  if (errors.length) problems.push(`${errors.length} math errors, e.g. ` +
      JSON.stringify(errors[0].textContent.slice(0, 60)));

  // Remote images (the Colab badge) cannot load on an offline machine; local ones must.
  const isLocal = url => new URL(url, location.href).origin === location.origin;
  for (const img of document.images) {
    if (img.naturalWidth === 0 && isLocal(img.src)) problems.push('broken image: ' + img.getAttribute('src'));
  }

  const main = document.querySelector('main') || document.body;
  const text = main.innerText;
  const at = text.indexOf('??');
  if (at >= 0) problems.push('"??" in the text: ' + JSON.stringify(text.slice(Math.max(0, at - 40), at + 20)));
  const unresolved = [...main.querySelectorAll('.xref, .problematic')].filter(node => !node.closest('a'));
  if (unresolved.length) problems.push('unresolved reference: ' + JSON.stringify(unresolved[0].textContent));

  // A figure is empty when it is (nearly) one colour: sample a grid of pixels.
  const figures = [...main.querySelectorAll('.cell_output img, .output img, figure img')];
  for (const img of figures) {
    if (!img.naturalWidth) continue;
    const canvas = document.createElement('canvas');
    canvas.width = 64; canvas.height = 64;
    const context = canvas.getContext('2d');
    context.drawImage(img, 0, 0, 64, 64);
    const pixels = context.getImageData(0, 0, 64, 64).data;
    const colours = new Set();
    for (let i = 0; i < pixels.length; i += 4) colours.add(pixels[i] >> 4 << 8 | pixels[i + 1] >> 4 << 4 | pixels[i + 2] >> 4);
    if (colours.size < 3) problems.push('empty figure: ' + (img.getAttribute('alt') || img.getAttribute('src').slice(0, 60)));
  }
  done({problems, math: mathNodes.length, images: document.images.length, figures: figures.length});
})();
"""


def local_copy(html_dir, mathjax_dir):
    """A temporary copy of the book whose pages load MathJax from the copy itself."""
    root = Path(tempfile.mkdtemp(prefix="browser-check-")) / "site"
    shutil.copytree(html_dir, root)
    shutil.copytree(mathjax_dir, root / "_mathjax")
    for page in root.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        if MATHJAX_CDN in text:
            page.write_text(text.replace(MATHJAX_CDN, LOCAL_MATHJAX), encoding="utf-8")
    return root


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory):
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def browser(chromium, chromedriver):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--window-size=1280,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_script_timeout(SCRIPT_TIMEOUT)
    return driver


def redirect_target(page_file):
    """The page a meta-refresh page sends the reader to, or None for an ordinary page."""
    text = page_file.read_text(encoding="utf-8")
    match = REDIRECT.search(text)
    return match and len(text) < 1000 and match.group(1)


def check_page(driver, url, screenshot):
    from selenium.common.exceptions import TimeoutException

    driver.get(url)
    try:
        result = driver.execute_async_script(PAGE_PROBE)
    except TimeoutException:
        return [f"the page did not settle (MathJax or images) within {SCRIPT_TIMEOUT} s"], \
            {"math": "?", "images": "?", "figures": "?"}
    problems = list(result["problems"])
    for entry in driver.get_log("browser"):
        # Not the book's fault: the browser's own request for /favicon.ico, and remote
        # resources (Colab badge) that an offline machine cannot reach.
        message = entry["message"]
        if "favicon.ico" in message or ("net::ERR_" in message and "127.0.0.1" not in message):
            continue
        if entry["level"] == "SEVERE":
            problems.append("console error: " + message[:200])
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height, 800), 12000))
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(screenshot))
    driver.set_window_size(1280, 1000)
    return problems, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path, help="the built book, e.g. _build/html")
    parser.add_argument("--mathjax", type=Path, required=True, help="MathJax 3's es5 folder")
    parser.add_argument("--screens", type=Path, default=Path("_build/screens"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = parser.parse_args(argv)
    if not (args.html / "index.html").is_file():
        parser.error(f"{args.html} holds no built book (no index.html)")
    if not (args.mathjax / "tex-mml-chtml.js").is_file():
        parser.error(f"{args.mathjax} is not MathJax 3's es5 folder (no tex-mml-chtml.js)")

    root = local_copy(args.html, args.mathjax)
    server = serve(root)
    base = f"http://127.0.0.1:{server.server_port}/"
    pages = sorted(p.relative_to(root) for p in root.rglob("*.html")
                   if p.name not in SKIPPED_PAGES and not p.relative_to(root).parts[0].startswith(("_", ".")))
    driver = browser(args.chromium, args.chromedriver)
    failures = 0
    try:
        for page in pages:
            target = redirect_target(root / page)
            if target:
                ok = (root / page).parent.joinpath(target).is_file()
                print(f"{'ok  ' if ok else 'FAIL'} {page}  (redirects to {target})")
                if not ok:
                    print(f"       the redirect's target {target} does not exist")
                failures += not ok
                continue
            screenshot = args.screens / page.with_suffix(".png")
            problems, counts = check_page(driver, base + page.as_posix(), screenshot)
            status = "ok  " if not problems else "FAIL"
            print(f"{status} {page}  ({counts['math']} math, {counts['images']} images, "
                  f"{counts['figures']} figures) -> {screenshot}")
            for problem in problems:
                print(f"       {problem}")
            failures += bool(problems)
    finally:
        driver.quit()
        server.shutdown()
        shutil.rmtree(root.parent, ignore_errors=True)
    print(f"{len(pages)} pages checked, {failures} with problems; screenshots in {args.screens}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
