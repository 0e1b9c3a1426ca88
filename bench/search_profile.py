"""Where a query's time to first ranked result goes: `python bench/search_profile.py SITE_DIR QUERY [--runs 2] [--cpu]`.

Opens `search.html?q=QUERY` in a fresh Chromium context (nothing cached) on the same recording server
as bench/search_scale.py and prints, per run, a timeline in ms from navigation start: every
resource (request start, response end), the page's `fr:*` performance marks (set by
assets/search-engine.js and search.js at each step: meta in, facets decoded, shards in, scored,
ranked, records in, painted), first paint and `window.frSearchFirstAt`. With `--cpu`, a CDP CPU
profile of the run is summarised: self time per function (top 15). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.search_scale import CHROMIUM, CHROMIUM_ARGS, serve  # noqa: E402

TIMELINE = """() => {
  const out = [];
  for (const e of performance.getEntriesByType('resource'))
    out.push([e.startTime, 'res  ' + e.name.replace(location.origin + '/', '') + ' -> ' + e.responseEnd.toFixed(0)]);
  for (const e of performance.getEntriesByType('mark')) out.push([e.startTime, 'mark ' + e.name]);
  for (const e of performance.getEntriesByType('paint')) out.push([e.startTime, 'paint ' + e.name]);
  out.push([window.frSearchFirstAt, 'FIRST RANKED RESULT']);
  return out.sort((a, b) => a[0] - b[0]);
}"""


def cpu_summary(profile: dict, top: int = 15) -> list[str]:
    nodes = {n["id"]: n for n in profile["nodes"]}
    self_us: collections.Counter = collections.Counter()
    deltas = profile.get("timeDeltas", [])
    for sample, dt in zip(profile.get("samples", []), deltas[1:] + [0]):
        f = nodes[sample]["callFrame"]
        url = f["url"].rsplit("/", 1)[-1]
        self_us[f"{f['functionName'] or '(anonymous)'} {url}:{f['lineNumber'] + 1}"] += dt
    return [f"{us / 1000:8.1f} ms  {name}" for name, us in self_us.most_common(top)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", type=Path)
    ap.add_argument("query")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--cpu", action="store_true")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    log: list[str] = []
    server = serve(args.site, log)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for run in range(args.runs):
                ctx = browser.new_context()
                page = ctx.new_page()
                cdp = None
                if args.cpu:
                    cdp = ctx.new_cdp_session(page)
                    cdp.send("Profiler.enable")
                    cdp.send("Profiler.setSamplingInterval", {"interval": 200})
                    cdp.send("Profiler.start")
                page.goto(f"{base}/search.html?q={quote(args.query)}")
                end = time.monotonic() + 120
                while page.evaluate("window.frSearchFirstAt === undefined") and time.monotonic() < end:
                    time.sleep(0.02)
                page.wait_for_load_state("networkidle")
                print(f"--- run {run + 1}: {args.query!r}, summary: {page.inner_text('#fr-summary')[:80]}")
                for t, what in page.evaluate(TIMELINE):
                    print(f"{t:8.1f}  {what}")
                if cdp is not None:
                    prof = cdp.send("Profiler.stop")["profile"]
                    print("CPU self time (whole run, main thread):")
                    print("\n".join(cpu_summary(prof)))
                ctx.close()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
