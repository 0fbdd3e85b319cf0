#!/usr/bin/env node
// `npx node bench/log-line-cost.mjs`: what the request log line costs, per call, in
// microseconds of workerd CPU. Each variant (bench/log-line-cost.ts) runs 20,000 times in
// a loop inside a request, five requests a sample; the variants are interleaved over
// ROUNDS rounds and the median sample is reported. Same bare workerd, bindings and log handling as `npm run bench`
// (Miniflare drops the lines). See docs/benchmarks.md, "The per-request log line".
import { join } from "node:path";
import { bundle, cpuMs, root, start } from "./workerd.mjs";

const CALLS = 20_000;
const REQUESTS = 5;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
// A public caller, as the Worker sees it deployed.
const headers = { "cf-connecting-ip": "203.0.113.7" };

const { path } = bundle(join(root, "bench", ".build", "log-line-cost"), "bench/log-line-cost.ts");
const { mf, url, pid } = await start(path);
try {
  const variants = await fetch(url).then((response) => response.json());
  const run = (variant) =>
    fetch(`${url}/?variant=${encodeURIComponent(variant)}&n=${CALLS}`, { headers }).then((r) => r.text());
  for (const variant of variants) await run(variant); // warm-up
  const samples = Object.fromEntries(variants.map((variant) => [variant, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of variants) {
      const before = cpuMs(pid);
      for (let i = 0; i < REQUESTS; i++) await run(variant);
      samples[variant].push(((cpuMs(pid) - before) * 1000) / (CALLS * REQUESTS));
    }
  }
  console.table(
    variants.map((variant) => {
      const sorted = samples[variant].sort((x, y) => x - y);
      return {
        variant,
        "µs/call (median)": Number(sorted[Math.floor(sorted.length / 2)].toFixed(2)),
        min: Number(sorted[0].toFixed(2)),
        max: Number(sorted.at(-1).toFixed(2)),
      };
    }),
  );
} finally {
  await mf.dispose();
}
