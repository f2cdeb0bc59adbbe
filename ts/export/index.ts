/** Export to PyTorch and ONNX, import from PyTorch (see docs/export.md). */
export { resolveArchitecture, type Arch, type BlockArch, type Op } from './arch.js';
export { exportPyTorch, pytorchModule, type PyTorchExport } from './pytorch.js';
export { importPyTorch, type ImportResult } from './import.js';
export { exportOnnx } from './onnx.js';
