import { runRange, formatTable, formatFinding } from '/work/wt/fuzz/test/fuzz/driver.js';
const [name, seed, s, e] = process.argv.slice(2);
const t0 = Date.now();
const t = await runRange(name!, Number(seed), Number(s), Number(e));
console.log(formatTable([t]), '\n', JSON.stringify(t.refused), (Date.now() - t0) / 1000, 's');
const seen = new Set<string>();
for (const f of t.findings) { const key = f.kind + f.message.replace(/\d+/g, 'N').slice(0, 70); if (seen.has(key)) continue; seen.add(key); console.log(formatFinding(f).slice(0, 600)); }
