/**
 * The export functions called from JavaScript with what they do not take: `exportPyTorch(model)` without the JSON
 * returned files['model.json'] === undefined, and `exportOnnx(null)` was a TypeError from deep inside. Each is an
 * ArgumentError naming the function and the argument, before anything is read from the model.
 */
import { describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { backendUnderTest } from '../util/backend.js';
import { stack } from './models.js';

describe('export API arguments', () => {
  it('exportPyTorch without the model JSON text', async () => {
    const be = await backendUnderTest();
    const m = stack(be);
    try {
      for (const bad of [undefined, null, 42, { json: '{}' }])
        expect(() => cv.exportPyTorch(m, bad as unknown as string)).toThrow(
          /^exportPyTorch: modelJsonText must be the model's JSON text \(saveModel\(model\)\.json\), got /,
        );
      expect(() => cv.exportPyTorch(m, undefined as unknown as string)).toThrow(cv.ArgumentError);
      expect(cv.exportPyTorch(m, cv.saveModel(m).json).files['model.json']).toMatch(/^\{/);
    } finally {
      m.dispose();
    }
  });

  it.each([null, undefined, {}, 'stack.json'])('exportOnnx and exportPyTorch of %j', async (bad) => {
    const model = bad as unknown as cv.Model;
    await expect(cv.exportOnnx(model)).rejects.toThrow(cv.ArgumentError);
    await expect(cv.exportOnnx(model)).rejects.toThrow(/^exportOnnx: model must be a convae model/);
    expect(() => cv.exportPyTorch(model, '{}')).toThrow(/^exportPyTorch: model must be a convae model/);
    expect(() => cv.resolveArchitecture(model)).toThrow(/^resolveArchitecture: model must be a convae model/);
  });
});
