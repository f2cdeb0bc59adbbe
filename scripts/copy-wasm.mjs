// Copies the committed wasm builds and their wasm-bindgen glue next to the compiled JS,
// where the loader looks for them (new URL('../wasm/…', import.meta.url)).
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
mkdirSync('dist/wasm', { recursive: true });
for (const f of readdirSync('ts/wasm')) cpSync(`ts/wasm/${f}`, `dist/wasm/${f}`);
// The font the PNG charts are drawn with (ts/viz/render.ts finds it at new URL('./fonts/…', import.meta.url)).
mkdirSync('dist/viz/fonts', { recursive: true });
for (const f of readdirSync('ts/viz/fonts')) cpSync(`ts/viz/fonts/${f}`, `dist/viz/fonts/${f}`);
