// Renders a markdown file to a standalone HTML page the way the forges show
// a pull-request comment: GitHub-flavoured markdown, <details> kept, and
// ```mermaid blocks drawn by Mermaid in the browser. Used by
// scripts/screenshot-markdown.sh; run with the packages of package.json.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { marked } from "marked";

const [src, out] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const mermaidJS = require.resolve("mermaid/dist/mermaid.min.js");

const renderer = new marked.Renderer();
const code = renderer.code.bind(renderer);
renderer.code = (tok) =>
  tok.lang === "mermaid"
    ? `<pre class="mermaid">${tok.text.replace(/</g, "&lt;")}</pre>`
    : code(tok);
marked.use({ renderer, gfm: true });

const body = marked.parse(readFileSync(src, "utf8"));
writeFileSync(out, `<!doctype html><meta charset="utf-8">
<style>
body{font:14px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:1000px;margin:24px auto;color:#1f2328}
table{border-collapse:collapse}td,th{border:1px solid #d1d9e0;padding:4px 10px}
pre{background:#f6f8fa;padding:12px;overflow:auto}code{font:12px ui-monospace,monospace}
details{margin:6px 0}summary{cursor:pointer;font-weight:600}
</style>
<script src="file://${mermaidJS}"></script>
<script>mermaid.initialize({startOnLoad:true, securityLevel:"loose"});
document.addEventListener("DOMContentLoaded",()=>document.querySelectorAll("details").forEach(d=>d.open=true));</script>
${body}`);
