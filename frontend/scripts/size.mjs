// Initial JavaScript of the built app, gzipped: the entry script and the modules it preloads (dist/index.html).
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const dist = join(import.meta.dirname, "..", "dist");
const html = readFileSync(join(dist, "index.html"), "utf8");
const files = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
let total = 0;
for (const file of files) {
  const size = gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
  total += size;
  console.log(`${file}\t${(size / 1024).toFixed(1)} KB gzipped`);
}
console.log(`initial JS\t${(total / 1024).toFixed(1)} KB gzipped (budget 250 KB)`);
if (total > 250 * 1024) process.exit(1);
