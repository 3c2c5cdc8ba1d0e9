"""Check the built documentation: links, and pages as a browser renders them.

Usage, after ``python -m sphinx -W -b html docs docs/_build/html``::

    python docs/check_site.py docs/_build/html [--browser auto|required|off]

1. Files. Every relative ``href``, ``src`` and ``srcset`` entry of every page
   must name a file of the site, and every ``#fragment`` an ``id`` on the page it
   points to; every ``url()`` of every stylesheet a file of the site. Pages,
   stylesheets, scripts, fonts and images must come from the site itself: an
   absolute ``http(s)://`` address is allowed only on plain links
   (``<a href>``). A page with formulas must load MathJax, and no page may show
   a raw ``\\(`` or ``\\[`` outside its formulas and code.
2. Browser. Every page is opened in headless Chromium (``/usr/bin/chromium``,
   Debian's ``chromium`` package), served from ``127.0.0.1`` with a
   Content-Security-Policy that lets a page load from the site alone and report
   anything else it tries; every other address goes to a recording proxy that
   answers nothing. The check fails when a page tries to load anything from
   outside the site, when the proxy sees a request other than Chromium's own
   background requests (those it also makes for ``about:blank``, and those to
   its known services in ``SERVICES``), when a page asks the site for a
   file it lacks, shows a formula untypeset (a raw ``\\(`` or ``\\[`` left in the
   rendered text, MathJax failing), or shows a code block wider than its column
   (cut, with a scroll bar) in a 1400 pixel wide window. The three pages of
   ``PAGES`` must show typeset formulas, and a screenshot of each is saved in
   ``screenshots/`` beside the site.

``--browser auto`` (the default) skips the second part with a message when
Chromium is missing; ``required`` fails instead.
"""

import argparse
import html.parser
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from pathlib import Path

PAGES = ("index.html", "user_guide/svd.html", "user_guide/pca.html")
REPORTS = "/__csp_report__"
POLICY = (
    "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; "
    f"report-uri {REPORTS}"
)
# Chromium's own services, off so that the proxy sees as little as possible that
# is not the page's (what remains is measured on about:blank and set aside).
QUIET = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-client-side-phishing-detection",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--metrics-recording-only",
    "--no-pings",
    "--no-default-browser-check",
    "--disable-search-engine-choice-screen",
    "--disable-features=Translate,OptimizationHints,MediaRouter,"
    "NetworkTimeServiceQuerying,AutofillServerCommunication,"
    "CertificateTransparencyComponentUpdater,DialMediaRouteProvider,"
    "PreconnectToSearch,InterestFeedContentSuggestions",
)
# Chromium's own services: they turn up at random (GCM check-in, sign-in, ...),
# not always while about:blank is measured. A page's own loads from these hosts
# are still reported by the Content-Security-Policy.
SERVICES = {
    f"{host}:443"
    for host in (
        "accounts.google.com",
        "www.google.com",
        "android.clients.google.com",
        "clients2.google.com",
        "update.googleapis.com",
        "optimizationguide-pa.googleapis.com",
        "content-autofill.googleapis.com",
        "redirector.gvt1.com",
    )
}
WINDOW = (1400, 1800)
# Waits for MathJax to finish, then records what the check reads back from the
# DOM. Added to the pages only as this check serves them; the site is unchanged.
PROBE = """
<script>
window.addEventListener("load", function () {
  function report(state) {
    var wide = [];
    document.querySelectorAll("pre").forEach(function (pre) {
      if (pre.scrollWidth > pre.clientWidth + 1) {
        wide.push(pre.textContent.split("\\n")[0].slice(0, 80));
      }
    });
    var probe = document.createElement("script");
    probe.type = "application/json";
    probe.id = "site-check";
    probe.textContent = JSON.stringify({
      mathjax: state,
      formulas: document.querySelectorAll("mjx-container").length,
      wide_code: wide,
    });
    document.body.appendChild(probe);
  }
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(function () { report("typeset"); },
                                 function () { report("failed"); });
  } else {
    report(window.MathJax ? "not started" : "not loaded");
  }
});
</script>
"""


class _Page(html.parser.HTMLParser):
    """The ids of a page, its links and resources, and its visible text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.links = []  # (tag, attribute, value)
        self._hidden = 0
        self.prose = []  # the visible text outside code
        self.styles = []  # <style> bodies and style="" attributes
        self.raw_math = []  # \( or \[ in prose, outside math and code
        self.math = False  # the page has a math element for MathJax
        self.scripts = []
        self._math = None  # [tag, depth] of the open math element
        self._code = 0
        self._style = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("id", "name"):
            if attributes.get(name) and (name == "id" or tag == "a"):
                self.ids.add(attributes[name])
        for name in ("href", "src", "data", "poster", "xlink:href"):
            if attributes.get(name) is not None:
                self.links.append((tag, name, attributes[name]))
        for name in ("srcset", "imagesrcset"):
            for candidate in (attributes.get(name) or "").split(","):
                if candidate.split():
                    self.links.append((tag, name, candidate.split()[0]))
        if attributes.get("style"):
            self.styles.append(attributes["style"])
        if tag == "script" and attributes.get("src"):
            self.scripts.append(attributes["src"])
        if tag in ("script", "style", "mjx-assistive-mml"):
            self._hidden += 1
        self._style = tag == "style"
        classes = (attributes.get("class") or "").split()
        if self._math:
            self._math[1] += tag == self._math[0]
        elif "math" in classes and tag in ("span", "div"):
            self._math, self.math = [tag, 1], True
        self._code += tag in ("pre", "code", "kbd", "samp", "tt", "textarea")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "mjx-assistive-mml") and self._hidden:
            self._hidden -= 1
        self._style = False
        if self._math and tag == self._math[0]:
            self._math[1] -= 1
            if not self._math[1]:
                self._math = None
        if tag in ("pre", "code", "kbd", "samp", "tt", "textarea") and self._code:
            self._code -= 1

    def handle_data(self, data):
        if self._style:
            self.styles.append(data)
        if not self._hidden:
            if not self._code:
                self.prose.append(data)
            if not self._math and not self._code:
                for raw in ("\\(", "\\["):
                    if raw in data:
                        at = data.index(raw)
                        self.raw_math.append(data[at : at + 40])


# url(...) and @import "..." in CSS
CSS_URL = re.compile(
    r"""url\(\s*(?P<q>['"]?)(?P<a>[^'")]*)(?P=q)\s*\)|@import\s+(?P<r>['"])(?P<b>[^'"]*)(?P=r)"""
)


def _css_urls(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return [m["a"] if m["a"] is not None else m["b"] for m in CSS_URL.finditer(text)]


def _parse(path):
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def check_links(site):
    """Return the problems with the site's links, and the number checked."""
    site = site.resolve()
    pages = {
        path.resolve(): _parse(path)
        for path in sorted(site.rglob("*.html"))
        # Theme templates copied as assets, not pages.
        if path.relative_to(site).parts[0] not in ("_static", "_sources")
    }
    problems, checked = [], 0
    for css in sorted(site.rglob("*.css")):
        for value in _css_urls(css.read_text(encoding="utf-8", errors="replace")):
            url = urllib.parse.urlsplit(value)
            where = f"{css.relative_to(site)}: url({value!r})"
            if url.scheme in ("http", "https") or value.startswith("//"):
                problems.append(f"{where} loads a resource from the network")
            elif not url.scheme and url.path:
                target = (css.parent / urllib.parse.unquote(url.path)).resolve()
                if not target.is_file():
                    problems.append(f"{where}: no such file")
    for path, page in pages.items():
        where = path.relative_to(site)
        for style in page.styles:
            for value in _css_urls(style):
                if re.match(r"(?i)\s*(https?:)?//", value):
                    problems.append(f"{where}: style url({value!r}) is on the network")
        problems += [f"{where}: raw formula {raw!r}" for raw in page.raw_math]
        if page.math and not any("mathjax" in src.lower() for src in page.scripts):
            problems.append(f"{where}: formulas but no MathJax script")
        for tag, attribute, value in page.links:
            url = urllib.parse.urlsplit(value)
            where = f"{path.relative_to(site)}: <{tag} {attribute}={value!r}>"
            if url.scheme in ("http", "https") or value.startswith("//"):
                if tag != "a":
                    problems.append(f"{where} loads a resource from the network")
                continue
            if url.scheme or not (url.path or url.fragment):
                continue  # mailto:, data:, javascript:, or an empty link
            checked += 1
            target = (path.parent / urllib.parse.unquote(url.path)).resolve()
            if url.path == "":
                target = path.resolve()  # "#fragment" on the page itself
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file() or not target.is_relative_to(site):
                problems.append(f"{where}: no such file")
                continue
            if url.fragment and target.suffix == ".html":
                ids = (pages[target] if target in pages else _parse(target)).ids
                if urllib.parse.unquote(url.fragment) not in ids:
                    problems.append(f"{where}: no anchor #{url.fragment}")
    return problems, checked


class _Recorder(http.server.BaseHTTPRequestHandler):
    """A proxy that answers nothing and records every request it is sent."""

    requests = []

    def _refuse(self):
        self.requests.append(f"{self.command} {self.path}")
        self.send_error(502, "the documentation check allows no network access")

    do_GET = do_POST = do_HEAD = do_PUT = do_OPTIONS = do_CONNECT = _refuse

    def log_message(self, *args):
        pass


def _site_handler(site, missing, refused):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(site), **kwargs)

        def do_POST(self):
            length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
            body = self.rfile.read(length)
            if self.path != REPORTS:
                self.send_error(404)
                return
            try:
                report = json.loads(body)["csp-report"]
                refused.append(
                    f"{report.get('document-uri')} tried to load "
                    f"{report.get('blocked-uri')} ({report.get('violated-directive')})"
                )
            except (ValueError, KeyError, TypeError):
                refused.append(f"unreadable policy report: {body[:200]!r}")
            self.send_response(204)
            self.end_headers()

        def send_head(self):
            path = Path(self.translate_path(self.path))
            if self.path.split("?")[0].endswith(".html") and path.is_file():
                body = path.read_bytes().replace(
                    b"</body>", PROBE.encode() + b"</body>"
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Security-Policy", POLICY)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                return _Bytes(body)
            if not path.exists() and not self.path.endswith("favicon.ico"):
                missing.append(self.path)
            return super().send_head()

        def log_message(self, *args):
            pass

    return Handler


class _Bytes:
    def __init__(self, data):
        self.data = data

    def read(self, *args):
        data, self.data = self.data, b""
        return data

    def close(self):
        pass


def _serve(handler):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _chromium(browser, proxy, profile, *arguments, timeout=120):
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        *QUIET,
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--proxy-server=http://127.0.0.1:{proxy}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--virtual-time-budget=30000",
        *arguments,
    ]
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return subprocess.CompletedProcess(
                command, -9, "", f"no answer in {timeout} s; killed"
            )
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _browsed(site):
    """PAGES first (with screenshots), then every other page of the site."""
    others = sorted(
        str(path.relative_to(site))
        for path in site.rglob("*.html")
        if path.relative_to(site).parts[0] not in ("_static", "_sources")
    )
    return [*PAGES, *(name for name in others if name not in PAGES)]


def check_pages(site, browser, screenshots):
    """Open PAGES in Chromium; return the problems found."""
    missing, refused, problems = [], [], []
    server = _serve(_site_handler(site, missing, refused))
    proxy = _serve(_Recorder)
    screenshots.mkdir(parents=True, exist_ok=True)
    try:
        _Recorder.requests = []
        with tempfile.TemporaryDirectory() as profile:
            blank = _chromium(
                browser, proxy.server_address[1], profile, "--dump-dom", "about:blank"
            )
        if blank.returncode != 0 or "<html" not in blank.stdout:
            return [f"Chromium fails ({blank.returncode}): {blank.stderr[-500:]}"]
        own = {_host(request) for request in _Recorder.requests}
        _Recorder.requests = []
        for name in _browsed(site):
            url = f"http://127.0.0.1:{server.server_address[1]}/{name}"
            with tempfile.TemporaryDirectory() as profile:
                result = _chromium(
                    browser, proxy.server_address[1], profile, "--dump-dom", url
                )
            problems += _rendered(name, result, math=name in PAGES)
            if name not in PAGES:
                continue
            with tempfile.TemporaryDirectory() as profile:
                shot = screenshots / (name.replace("/", "_")[: -len(".html")] + ".png")
                _chromium(
                    browser,
                    proxy.server_address[1],
                    profile,
                    f"--screenshot={shot}",
                    url,
                )
            if not shot.is_file():
                problems.append(f"{name}: Chromium wrote no screenshot")
            else:
                print(f"screenshot: {shot}")
    finally:
        server.shutdown()
        proxy.shutdown()
    if own:
        print(
            "Chromium's own requests, made for about:blank too: "
            + ", ".join(sorted(own))
        )
    problems += [
        f"a request left for the network: {request}"
        for request in _Recorder.requests
        if _host(request) not in own and _host(request) not in SERVICES
    ]
    problems += [f"blocked by the page policy: {report}" for report in refused]
    problems += [f"a page asked the site for a missing file {m}" for m in missing]
    return problems


def _host(request):
    """The host of a recorded proxy request: 'CONNECT h:443' or 'GET http://h/…'."""
    target = request.split(" ", 1)[1]
    if "://" in target:
        return urllib.parse.urlsplit(target).netloc
    return target


def _rendered(name, result, math=True):
    if result.returncode != 0 or "<html" not in result.stdout:
        return [
            f"{name}: Chromium failed ({result.returncode}): {result.stderr[-500:]}"
        ]
    match = re.search(
        r'<script type="application/json" id="site-check">(.*?)</script>',
        result.stdout,
        re.S,
    )
    if not match:
        return [f"{name}: the page did not finish loading"]
    report = json.loads(match.group(1))
    page = _Page()
    page.feed(result.stdout)
    text = "".join(page.prose)
    problems = []
    if report["mathjax"] != "typeset" and (math or report["mathjax"] != "not loaded"):
        problems.append(f"{name}: MathJax {report['mathjax']}")
    if math and report["formulas"] == 0:
        problems.append(f"{name}: no typeset formula")
    for raw in ("\\(", "\\["):
        if raw in text:
            at = text.index(raw)
            problems.append(f"{name}: raw {raw} in the text: {text[at : at + 60]!r}")
    problems += [f"{name}: code block cut: {line!r}" for line in report["wide_code"]]
    print(f"{name}: {report['formulas']} typeset formulas, MathJax {report['mathjax']}")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("site", type=Path, help="the built HTML folder")
    parser.add_argument(
        "--browser", choices=("auto", "required", "off"), default="auto"
    )
    arguments = parser.parse_args(argv)
    site = arguments.site.resolve()
    if not (site / "index.html").is_file():
        parser.error(f"{site} holds no index.html; build the documentation first")
    problems, checked = check_links(site)
    print(f"links: {checked} internal links and anchors checked")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if arguments.browser == "off":
        pass
    elif browser is None:
        message = "Chromium not found (Debian: apt-get install chromium)"
        if arguments.browser == "required":
            problems.append(message)
        else:
            print(f"browser check skipped: {message}")
    else:
        problems += check_pages(site, browser, site.parent / "screenshots")
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    print("site check: " + ("failed" if problems else "passed"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
