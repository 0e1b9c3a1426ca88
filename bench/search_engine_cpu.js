/* CPU time of the search engine's own work per query, without a browser:
 *   node bench/search_engine_cpu.js SITE_DIR QUERY [ENGINE_JS]
 * Loads templates/assets/search-engine.js (or ENGINE_JS, e.g. an older copy from a built site) in
 * Node with `fetch` reading SITE_DIR's files, loads meta + facets and the query's term shards, then
 * times `engine.search` (scoring, filtering, ranking) in process CPU milliseconds, which a shared
 * machine's load does not inflate. Run 0 is what a page pays (a fresh engine, code not yet
 * optimised by the JIT); later runs are warm. Nothing is asserted; figures go into docs/benchmarks.md. */
"use strict";
const fs = require("fs"), path = require("path");
const [site, q, engineJs] = process.argv.slice(2);
if (!site || q === undefined) { console.error("usage: node bench/search_engine_cpu.js SITE_DIR QUERY [ENGINE_JS]"); process.exit(2); }
global.window = global;
global.document = { currentScript: null, getElementById: () => null };
global.location = { href: "http://127.0.0.1/search.html", search: "" };
global.fetch = (u) => Promise.resolve({ ok: true, json: () => Promise.resolve(JSON.parse(fs.readFileSync(path.join(site, u), "utf8"))) });
require(path.resolve(engineJs || path.join(__dirname, "..", "templates", "assets", "search-engine.js")));
const FS = window.FrSearch;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
(async () => {
  for (let run = 0; run < 3; run++) {
    const e = new FS.Engine("");
    await e.load();
    for (const t of FS.queryTerms(q)) await e.expansions(t);  // files fetched and parsed: time the JS only
    const t0 = cpu();
    const res = await e.search(q, FS.emptySelection());
    console.log(`run ${run}: ${(cpu() - t0).toFixed(1)} ms CPU, ${res.ranked.length} datasets`);
  }
})();
