/**
 * y = act(x); may run in place (y == x). kind: 0 identity, 1 relu, 2 leaky relu (slope alpha), 3 tanh, 4 sigmoid.
 * @param {number} kind
 * @param {number} alpha
 * @param {number} len
 * @param {number} x
 * @param {number} y
 * @returns {number}
 */
export function activation(kind, alpha, len, x, y) {
    const ret = wasm.activation(kind, alpha, len, x, y);
    return ret >>> 0;
}

/**
 * dx = act'(y) · dy, from the activation's output y; may run in place (dx == dy).
 * @param {number} kind
 * @param {number} alpha
 * @param {number} len
 * @param {number} y
 * @param {number} dy
 * @param {number} dx
 * @returns {number}
 */
export function activation_backward(kind, alpha, len, y, dy, dx) {
    const ret = wasm.activation_backward(kind, alpha, len, y, dy, dx);
    return ret >>> 0;
}

/**
 * AdamW (decoupled weight decay, PyTorch semantics), in place on params, m and v. `step` counts from 1.
 * @param {number} len
 * @param {number} params
 * @param {number} grads
 * @param {number} m
 * @param {number} v
 * @param {number} lr
 * @param {number} beta1
 * @param {number} beta2
 * @param {number} eps
 * @param {number} weight_decay
 * @param {number} step
 * @returns {number}
 */
export function adam_step(len, params, grads, m, v, lr, beta1, beta2, eps, weight_decay, step) {
    const ret = wasm.adam_step(len, params, grads, m, v, lr, beta1, beta2, eps, weight_decay, step);
    return ret >>> 0;
}

/**
 * Returns a 16-byte aligned block of `bytes` bytes, or 0 when memory cannot grow.
 * @param {number} bytes
 * @returns {number}
 */
export function alloc(bytes) {
    const ret = wasm.alloc(bytes);
    return ret >>> 0;
}

/**
 * `x = a·x + b·y` over `len` floats (no fused multiply-add: symmetric in its two terms).
 * @param {number} len
 * @param {number} x
 * @param {number} a
 * @param {number} y
 * @param {number} b
 * @returns {number}
 */
export function axpby(len, x, a, y, b) {
    const ret = wasm.axpby(len, x, a, y, b);
    return ret >>> 0;
}

/**
 * db[ch] += Σ_n Σ_q dy[n, ch, q]; dy [n, c, p]. Bias gradient of conv2d, conv_transpose2d (p = oh·ow) and dense (p = 1).
 * @param {number} n
 * @param {number} c
 * @param {number} p
 * @param {number} dy
 * @param {number} db
 * @returns {number}
 */
export function bias_backward(n, c, p, dy, db) {
    const ret = wasm.bias_backward(n, c, p, dy, db);
    return ret >>> 0;
}

/**
 * 0 = scalar, 1 = simd (SIMD128), 2 = relaxed (SIMD128 + relaxed SIMD): the best
 * instruction set compiled into this module.
 * @returns {number}
 */
export function build_isa() {
    const ret = wasm.build_isa();
    return ret >>> 0;
}

/**
 * y = conv2d(x, w) + b. x [n,c_in,h,w], w [c_out,c_in,kh,kw], b [c_out] or 0, y [n,c_out,oh,ow] (overwritten).
 * @param {number} n
 * @param {number} c_in
 * @param {number} h
 * @param {number} w
 * @param {number} c_out
 * @param {number} kh
 * @param {number} kw
 * @param {number} sh
 * @param {number} sw
 * @param {number} ph
 * @param {number} pw
 * @param {number} x
 * @param {number} wt
 * @param {number} b
 * @param {number} y
 * @param {number} ws
 * @returns {number}
 */
export function conv2d(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, x, wt, b, y, ws) {
    const ret = wasm.conv2d(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, x, wt, b, y, ws);
    return ret >>> 0;
}

/**
 * dx = conv2d input gradient (overwritten). dy [n,c_out,oh,ow], w [c_out,c_in,kh,kw], dx [n,c_in,h,w].
 * @param {number} n
 * @param {number} c_in
 * @param {number} h
 * @param {number} w
 * @param {number} c_out
 * @param {number} kh
 * @param {number} kw
 * @param {number} sh
 * @param {number} sw
 * @param {number} ph
 * @param {number} pw
 * @param {number} dy
 * @param {number} wt
 * @param {number} dx
 * @param {number} ws
 * @returns {number}
 */
export function conv2d_backward_input(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, dy, wt, dx, ws) {
    const ret = wasm.conv2d_backward_input(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, dy, wt, dx, ws);
    return ret >>> 0;
}

/**
 * dw += conv2d weight gradient. x [n,c_in,h,w], dy [n,c_out,oh,ow], dw [c_out,c_in,kh,kw].
 * @param {number} n
 * @param {number} c_in
 * @param {number} h
 * @param {number} w
 * @param {number} c_out
 * @param {number} kh
 * @param {number} kw
 * @param {number} sh
 * @param {number} sw
 * @param {number} ph
 * @param {number} pw
 * @param {number} x
 * @param {number} dy
 * @param {number} dw
 * @param {number} ws
 * @returns {number}
 */
export function conv2d_backward_weight(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, x, dy, dw, ws) {
    const ret = wasm.conv2d_backward_weight(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, x, dy, dw, ws);
    return ret >>> 0;
}

/**
 * Workspace floats needed by conv2d and its two backward ops; negative on a bad shape.
 * Depends on the GEMM tile of the build: native and wasm lengths differ.
 * @param {number} n
 * @param {number} c_in
 * @param {number} h
 * @param {number} w
 * @param {number} c_out
 * @param {number} kh
 * @param {number} kw
 * @param {number} sh
 * @param {number} sw
 * @param {number} ph
 * @param {number} pw
 * @returns {number}
 */
export function conv2d_workspace_len(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw) {
    const ret = wasm.conv2d_workspace_len(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw);
    return ret;
}

/**
 * Output size of a convolution along one axis; negative -(16 + ShapeError) on a bad shape.
 * (Exported so the TS shape math can be checked against this one: test/shape.test.ts.)
 * @param {number} input
 * @param {number} k
 * @param {number} s
 * @param {number} p
 * @returns {number}
 */
export function conv_out(input, k, s, p) {
    const ret = wasm.conv_out(input, k, s, p);
    return ret;
}

/**
 * y = conv_transpose2d(x, w) + b. x [n,c_in,h,w], w [c_in,c_out,kh,kw] (a tied decoder
 * passes the encoder's conv2d weight unchanged), b [c_out] or 0, y [n,c_out,oh,ow] (overwritten).
 * @param {number} n
 * @param {number} c_in
 * @param {number} h
 * @param {number} w
 * @param {number} c_out
 * @param {number} kh
 * @param {number} kw
 * @param {number} sh
 * @param {number} sw
 * @param {number} ph
 * @param {number} pw
 * @param {number} oph
 * @param {number} opw
 * @param {number} x
 * @param {number} wt
 * @param {number} b
 * @param {number} y
 * @param {number} ws
 * @returns {number}
 */
export function conv_transpose2d(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, oph, opw, x, wt, b, y, ws) {
    const ret = wasm.conv_transpose2d(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, oph, opw, x, wt, b, y, ws);
    return ret >>> 0;
}

/**
 * dx = conv_transpose2d input gradient (overwritten).
 * @param {number} n
 * @param {number} c_in
 * @param {number} h
 * @param {number} w
 * @param {number} c_out
 * @param {number} kh
 * @param {number} kw
 * @param {number} sh
 * @param {number} sw
 * @param {number} ph
 * @param {number} pw
 * @param {number} oph
 * @param {number} opw
 * @param {number} dy
 * @param {number} wt
 * @param {number} dx
 * @param {number} ws
 * @returns {number}
 */
export function conv_transpose2d_backward_input(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, oph, opw, dy, wt, dx, ws) {
    const ret = wasm.conv_transpose2d_backward_input(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, oph, opw, dy, wt, dx, ws);
    return ret >>> 0;
}

/**
 * dw += conv_transpose2d weight gradient.
 * @param {number} n
 * @param {number} c_in
 * @param {number} h
 * @param {number} w
 * @param {number} c_out
 * @param {number} kh
 * @param {number} kw
 * @param {number} sh
 * @param {number} sw
 * @param {number} ph
 * @param {number} pw
 * @param {number} oph
 * @param {number} opw
 * @param {number} x
 * @param {number} dy
 * @param {number} dw
 * @param {number} ws
 * @returns {number}
 */
export function conv_transpose2d_backward_weight(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, oph, opw, x, dy, dw, ws) {
    const ret = wasm.conv_transpose2d_backward_weight(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, oph, opw, x, dy, dw, ws);
    return ret >>> 0;
}

/**
 * Workspace floats needed by conv_transpose2d and its two backward ops; negative on a bad shape.
 * @param {number} n
 * @param {number} c_in
 * @param {number} h
 * @param {number} w
 * @param {number} c_out
 * @param {number} kh
 * @param {number} kw
 * @param {number} sh
 * @param {number} sw
 * @param {number} ph
 * @param {number} pw
 * @param {number} oph
 * @param {number} opw
 * @returns {number}
 */
export function conv_transpose2d_workspace_len(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, oph, opw) {
    const ret = wasm.conv_transpose2d_workspace_len(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, oph, opw);
    return ret;
}

/**
 * Output size of a transposed convolution along one axis; negative on a bad shape.
 * @param {number} input
 * @param {number} k
 * @param {number} s
 * @param {number} p
 * @param {number} op
 * @returns {number}
 */
export function conv_transpose_out(input, k, s, p, op) {
    const ret = wasm.conv_transpose_out(input, k, s, p, op);
    return ret;
}

/**
 * y = x · wᵀ + b. x [n,inp], w [out,inp], b [out] or 0, y [n,out] (overwritten).
 * @param {number} n
 * @param {number} inp
 * @param {number} out
 * @param {number} x
 * @param {number} wt
 * @param {number} b
 * @param {number} y
 * @param {number} ws
 * @returns {number}
 */
export function dense(n, inp, out, x, wt, b, y, ws) {
    const ret = wasm.dense(n, inp, out, x, wt, b, y, ws);
    return ret >>> 0;
}

/**
 * dx = dy · w (overwritten). dy [n,out], w [out,inp], dx [n,inp].
 * @param {number} n
 * @param {number} inp
 * @param {number} out
 * @param {number} dy
 * @param {number} wt
 * @param {number} dx
 * @param {number} ws
 * @returns {number}
 */
export function dense_backward_input(n, inp, out, dy, wt, dx, ws) {
    const ret = wasm.dense_backward_input(n, inp, out, dy, wt, dx, ws);
    return ret >>> 0;
}

/**
 * dw += dyᵀ · x. x [n,inp], dy [n,out], dw [out,inp].
 * @param {number} n
 * @param {number} inp
 * @param {number} out
 * @param {number} x
 * @param {number} dy
 * @param {number} dw
 * @param {number} ws
 * @returns {number}
 */
export function dense_backward_weight(n, inp, out, x, dy, dw, ws) {
    const ret = wasm.dense_backward_weight(n, inp, out, x, dy, dw, ws);
    return ret >>> 0;
}

/**
 * Workspace floats needed by dense and its two backward ops; negative on a bad shape.
 * @param {number} n
 * @param {number} inp
 * @param {number} out
 * @returns {number}
 */
export function dense_workspace_len(n, inp, out) {
    const ret = wasm.dense_workspace_len(n, inp, out);
    return ret;
}

/**
 * Frees a block from `alloc`; `bytes` must be the size it was allocated with.
 * @param {number} ptr
 * @param {number} bytes
 */
export function free(ptr, bytes) {
    wasm.free(ptr, bytes);
}

/**
 * C[i*ldc + j] (= or +=) Σ_p A[i*rsa + p*csa] · B[p*rsb + j*csb]; C is m × n, row stride ldc.
 * @param {number} m
 * @param {number} n
 * @param {number} kk
 * @param {number} a
 * @param {number} rsa
 * @param {number} csa
 * @param {number} b
 * @param {number} rsb
 * @param {number} csb
 * @param {number} c
 * @param {number} ldc
 * @param {boolean} accumulate
 * @param {number} ws
 * @returns {number}
 */
export function gemm(m, n, kk, a, rsa, csa, b, rsb, csb, c, ldc, accumulate, ws) {
    const ret = wasm.gemm(m, n, kk, a, rsa, csa, b, rsb, csb, c, ldc, accumulate, ws);
    return ret >>> 0;
}

/**
 * Workspace floats needed by gemm.
 * @param {number} m
 * @param {number} n
 * @param {number} kk
 * @returns {number}
 */
export function gemm_workspace_len(m, n, kk) {
    const ret = wasm.gemm_workspace_len(m, n, kk);
    return ret;
}

/**
 * y = max over each window, switches = argmax index inside the (n, c) plane.
 * x [planes,h,w], y and switches [planes,oh,ow] (overwritten).
 * @param {number} planes
 * @param {number} h
 * @param {number} w
 * @param {number} kh
 * @param {number} kw
 * @param {number} sh
 * @param {number} sw
 * @param {number} x
 * @param {number} y
 * @param {number} switches
 * @returns {number}
 */
export function max_pool2d(planes, h, w, kh, kw, sh, sw, x, y, switches) {
    const ret = wasm.max_pool2d(planes, h, w, kh, kw, sh, sw, x, y, switches);
    return ret >>> 0;
}

/**
 * dx = scatter-add of dy through the switches (overwritten). dy [planes,oh,ow], dx [planes,h,w].
 * @param {number} planes
 * @param {number} h
 * @param {number} w
 * @param {number} kh
 * @param {number} kw
 * @param {number} sh
 * @param {number} sw
 * @param {number} dy
 * @param {number} switches
 * @param {number} dx
 * @returns {number}
 */
export function max_pool2d_backward(planes, h, w, kh, kw, sh, sw, dy, switches, dx) {
    const ret = wasm.max_pool2d_backward(planes, h, w, kh, kw, sh, sw, dy, switches, dx);
    return ret >>> 0;
}

/**
 * y = zeros of the original size, then y[switch] += x. x [planes,oh,ow], y [planes,h,w].
 * The pooling that made the switches is described by (h, w, kh, kw, sh, sw).
 * @param {number} planes
 * @param {number} h
 * @param {number} w
 * @param {number} kh
 * @param {number} kw
 * @param {number} sh
 * @param {number} sw
 * @param {number} x
 * @param {number} switches
 * @param {number} y
 * @returns {number}
 */
export function max_unpool2d(planes, h, w, kh, kw, sh, sw, x, switches, y) {
    const ret = wasm.max_unpool2d(planes, h, w, kh, kw, sh, sw, x, switches, y);
    return ret >>> 0;
}

/**
 * dx[i] = dy[switch[i]] (gather, overwritten). dy [planes,h,w], dx [planes,oh,ow].
 * @param {number} planes
 * @param {number} h
 * @param {number} w
 * @param {number} kh
 * @param {number} kw
 * @param {number} sh
 * @param {number} sw
 * @param {number} dy
 * @param {number} switches
 * @param {number} dx
 * @returns {number}
 */
export function max_unpool2d_backward(planes, h, w, kh, kw, sh, sw, dy, switches, dx) {
    const ret = wasm.max_unpool2d_backward(planes, h, w, kh, kw, sh, sw, dy, switches, dx);
    return ret >>> 0;
}

/**
 * loss_out[0] = 1/(2n) Σ (target − pred)², n = len; grad (or 0) = (pred − target) / n.
 * @param {number} len
 * @param {number} pred
 * @param {number} target
 * @param {number} grad
 * @param {number} loss_out
 * @returns {number}
 */
export function mse_loss(len, pred, target, grad, loss_out) {
    const ret = wasm.mse_loss(len, pred, target, grad, loss_out);
    return ret >>> 0;
}

/**
 * Independent accumulators in the peak probes: flops per call = iters × this × 8.
 * @returns {number}
 */
export function peak_accumulators() {
    const ret = wasm.peak_accumulators();
    return ret >>> 0;
}

/**
 * Same with the relaxed fused multiply-add (falls back to mul + add without relaxed SIMD).
 * @param {number} iters
 * @returns {number}
 */
export function peak_fma(iters) {
    const ret = wasm.peak_fma(iters);
    return ret;
}

/**
 * Runs `iters` rounds of f32x4 multiply + add on independent accumulators; see convae_kernels::peak.
 * @param {number} iters
 * @returns {number}
 */
export function peak_mul_add(iters) {
    const ret = wasm.peak_mul_add(iters);
    return ret;
}

/**
 * Output size of a pooling along one axis; negative on a bad shape.
 * @param {number} input
 * @param {number} k
 * @param {number} s
 * @returns {number}
 */
export function pool_out(input, k, s) {
    const ret = wasm.pool_out(input, k, s);
    return ret;
}

/**
 * Makes every kernel run its scalar twin (for tests comparing SIMD to scalar).
 * @param {boolean} on
 */
export function set_force_scalar(on) {
    wasm.set_force_scalar(on);
}

/**
 * SGD with momentum (PyTorch semantics), in place on params and velocity.
 * @param {number} len
 * @param {number} params
 * @param {number} grads
 * @param {number} velocity
 * @param {number} lr
 * @param {number} momentum
 * @param {number} weight_decay
 * @param {boolean} nesterov
 * @returns {number}
 */
export function sgd_step(len, params, grads, velocity, lr, momentum, weight_decay, nesterov) {
    const ret = wasm.sgd_step(len, params, grads, velocity, lr, momentum, weight_decay, nesterov);
    return ret >>> 0;
}

/**
 * loss_out[0] = mean over n of −log softmax(logits)[label]; grad (or 0) = (softmax − onehot) / n.
 * logits [n,classes], labels u32 [n].
 * @param {number} n
 * @param {number} classes
 * @param {number} logits
 * @param {number} labels
 * @param {number} grad
 * @param {number} loss_out
 * @returns {number}
 */
export function softmax_cross_entropy(n, classes, logits, labels, grad, loss_out) {
    const ret = wasm.softmax_cross_entropy(n, classes, logits, labels, grad, loss_out);
    return ret >>> 0;
}
function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
        __wbindgen_init_externref_table: function() {
            const table = wasm.__wbindgen_externrefs;
            table.set(0, undefined);
            table.set(1024, undefined);
            table.set(1025, null);
            table.set(1026, true);
            table.set(1027, false);
        },
    };
    return {
        __proto__: null,
        "./convae_wasm_bg.js": import0,
    };
}

let wasmModule, wasmInstance, wasm;
function __wbg_finalize_init(instance, module) {
    wasmInstance = instance;
    wasm = instance.exports;
    wasmModule = module;
    wasm.__wbindgen_start();
    return wasm;
}

async function __wbg_load(module, imports) {
    if (typeof Response === 'function' && module instanceof Response) {
        if (!module.ok) {
            throw new Error(`failed to fetch Wasm: ${module.status} ${module.statusText} fetching '${module.url}'`);
        }

        if (typeof WebAssembly.instantiateStreaming === 'function') {
            try {
                return await WebAssembly.instantiateStreaming(module, imports);
            } catch (e) {
                const validResponse = expectedResponseType(module.type);

                if (validResponse && module.headers.get('Content-Type') !== 'application/wasm') {
                    console.warn("`WebAssembly.instantiateStreaming` failed because your server does not serve Wasm with `application/wasm` MIME type. Falling back to `WebAssembly.instantiate` which is slower. Original error:\n", e);

                } else { throw e; }
            }
        }

        const bytes = await module.arrayBuffer();
        return await WebAssembly.instantiate(bytes, imports);
    } else {
        const instance = await WebAssembly.instantiate(module, imports);

        if (instance instanceof WebAssembly.Instance) {
            return { instance, module };
        } else {
            return instance;
        }
    }

    function expectedResponseType(type) {
        switch (type) {
            case 'basic': case 'cors': case 'default': return true;
        }
        return false;
    }
}

function initSync(module) {
    if (wasm !== undefined) return wasm;


    if (module !== undefined) {
        if (Object.getPrototypeOf(module) === Object.prototype) {
            ({module} = module)
        } else {
            console.warn('using deprecated parameters for `initSync()`; pass a single object instead')
        }
    }

    const imports = __wbg_get_imports();
    if (!(module instanceof WebAssembly.Module)) {
        module = new WebAssembly.Module(module);
    }
    const instance = new WebAssembly.Instance(module, imports);
    return __wbg_finalize_init(instance, module);
}

let __wbg_init_promise;
async function __wbg_init(module_or_path) {
    if (wasm !== undefined) return wasm;
    if (__wbg_init_promise === undefined) {
        __wbg_init_promise = __wbg_init_once(module_or_path);
        __wbg_init_promise.catch(() => { __wbg_init_promise = undefined; });
    }
    return __wbg_init_promise;
}

async function __wbg_init_once(module_or_path) {

    if (module_or_path !== undefined) {
        if (Object.getPrototypeOf(module_or_path) === Object.prototype) {
            ({module_or_path} = module_or_path)
        } else {
            console.warn('using deprecated parameters for the initialization function; pass a single object instead')
        }
    }


    const imports = __wbg_get_imports();

    if (typeof module_or_path === 'string' || (typeof Request === 'function' && module_or_path instanceof Request) || (typeof URL === 'function' && module_or_path instanceof URL)) {
        module_or_path = fetch(module_or_path);
    }

    const { instance, module } = await __wbg_load(await module_or_path, imports);

    return __wbg_finalize_init(instance, module);
}

export { initSync, __wbg_init as default };
