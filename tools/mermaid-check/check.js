// Parses every ```mermaid block of the Markdown files named on the command
// line with Mermaid's own parser and prints one JSON line per block: the
// diagram type, the title, the y axis, the points of each plot and the
// config its directive sets, or the parse error. Exits 1 when a block does
// not parse. jsdom stands in for the browser that Mermaid's sanitizer needs.
import fs from 'node:fs';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });

let failed = 0;
for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, 'utf8');
  const blocks = [...text.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  for (const [i, block] of blocks.entries()) {
    const out = { file, block: i };
    try {
      const parsed = await mermaid.parse(block);
      const diagram = await mermaid.mermaidAPI.getDiagramFromText(block);
      out.type = parsed.diagramType;
      out.config = parsed.config ?? {};
      if (out.type === 'xychart') {
        const data = diagram.db.getXYChartData();
        out.title = diagram.db.getDiagramTitle();
        out.xAxis = data.xAxis;
        out.yAxis = data.yAxis;
        out.plots = data.plots.map((p) => ({ type: p.type, points: p.data.length }));
      }
    } catch (err) {
      failed++;
      out.error = String(err.message ?? err);
    }
    console.log(JSON.stringify(out));
  }
}
process.exit(failed > 0 ? 1 : 0);
