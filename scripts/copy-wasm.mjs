// Copies the committed wasm builds and their wasm-bindgen glue next to the compiled JS,
// where the loader looks for them (new URL('../wasm/…', import.meta.url)).
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
mkdirSync('dist/wasm', { recursive: true });
for (const f of readdirSync('ts/wasm')) cpSync(`ts/wasm/${f}`, `dist/wasm/${f}`);
