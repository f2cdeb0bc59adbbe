//! The workloads of `npm run bench` (bench/workloads/spec.ts) as sequences of
//! kernel calls, in the order the TS layers make them (ts/model/layers.ts,
//! Sequential, Optimizer): W1/W2 one CAE block train step (conv, tanh, pool,
//! unpool, tied transposed conv, identity output, MSE, backward, SGD), W3 the
//! CNN train step, W4 the CNN forward on 256 images. Each call goes through
//! `Prof::op`, so a step can be broken down by operation.

use convae_kernels::act::{activation, activation_backward, Activation};
use convae_kernels::bias::bias_backward;
use convae_kernels::conv::{conv2d, conv2d_backward_input, conv2d_backward_weight};
use convae_kernels::conv_transpose::{
    conv_transpose2d, conv_transpose2d_backward_input, conv_transpose2d_backward_weight,
};
use convae_kernels::dense::{dense, dense_backward_input, dense_backward_weight};
use convae_kernels::loss::{mse_loss, softmax_cross_entropy};
use convae_kernels::optim::sgd_step;
use convae_kernels::pool::{max_pool2d, max_pool2d_backward};
use convae_kernels::shape::{Conv2d, ConvTranspose2d, Dense, Pool2d};
use convae_kernels::unpool::{max_unpool2d, max_unpool2d_backward};
pub const LR: f32 = 0.01;

/// This thread's CPU time in seconds (Linux `CLOCK_THREAD_CPUTIME_ID`): on a
/// machine shared with other processes it leaves out the time the thread
/// waited for a core, which wall-clock time does not.
pub fn cpu_secs() -> f64 {
    clock(3) // CLOCK_THREAD_CPUTIME_ID
}

/// The whole process's CPU time in seconds (all its threads: with
/// `threads::set(2)` the work of both; `CLOCK_PROCESS_CPUTIME_ID`).
pub fn process_cpu_secs() -> f64 {
    clock(2)
}

fn clock(id: i32) -> f64 {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
    let mut t = Timespec { sec: 0, nsec: 0 };
    // SAFETY: clock_gettime writes one timespec (two i64 on x86-64 / aarch64 Linux).
    let r = unsafe { clock_gettime(id, &mut t) };
    assert_eq!(r, 0);
    t.sec as f64 + t.nsec as f64 * 1e-9
}

/// CPU seconds per operation name, summed over the calls it times.
#[derive(Default)]
pub struct Prof {
    pub on: bool,
    pub t: Vec<(&'static str, f64)>,
}

impl Prof {
    #[inline]
    pub fn op<R>(&mut self, name: &'static str, f: impl FnOnce() -> R) -> R {
        if !self.on {
            return f();
        }
        let s = cpu_secs();
        let r = f();
        let dt = cpu_secs() - s;
        match self.t.iter_mut().find(|(n, _)| *n == name) {
            Some(e) => e.1 += dt,
            None => self.t.push((name, dt)),
        }
        r
    }
}

/// Deterministic values in [lo, hi).
pub fn fill(n: usize, seed: u32, lo: f32, hi: f32) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1103515245).wrapping_add(12345);
            lo + (hi - lo) * (s as f32 / 4294967296.0)
        })
        .collect()
}

fn glorot(n: usize, fan_in: usize, fan_out: usize, seed: u32) -> Vec<f32> {
    let l = (6.0 / (fan_in + fan_out) as f32).sqrt();
    fill(n, seed, -l, l)
}

fn conv(n: usize, c_in: usize, hw: usize, c_out: usize, k: usize) -> Conv2d {
    let s = Conv2d {
        n,
        c_in,
        h: hw,
        w: hw,
        c_out,
        kh: k,
        kw: k,
        sh: 1,
        sw: 1,
        ph: 0,
        pw: 0,
    };
    s.validate().unwrap();
    s
}

/// The W2 convolution: [64,20,12,12] ⊛ [50,20,5,5].
pub fn w2_conv() -> Conv2d {
    conv(64, 20, 12, 50, 5)
}

fn pool2(planes: usize, hw: usize) -> Pool2d {
    let p = Pool2d {
        planes,
        h: hw,
        w: hw,
        kh: 2,
        kw: 2,
        sh: 2,
        sw: 2,
    };
    p.validate().unwrap();
    p
}

/// One CAE block (W1: 1→20 on 28×28, W2: 20→50 on 12×12), 5×5, pool 2, tied decoder.
pub struct Cae {
    conv: Conv2d,
    tconv: ConvTranspose2d,
    pool: Pool2d,
    x: Vec<f32>,
    w: Vec<f32>,
    b: Vec<f32>,
    b2: Vec<f32>,
    dw: Vec<f32>,
    db: Vec<f32>,
    db2: Vec<f32>,
    a: Vec<f32>,
    h: Vec<f32>,
    p: Vec<f32>,
    sw: Vec<u32>,
    u: Vec<f32>,
    r: Vec<f32>,
    y: Vec<f32>,
    g: Vec<f32>,
    dr: Vec<f32>,
    du: Vec<f32>,
    dp: Vec<f32>,
    dh: Vec<f32>,
    da: Vec<f32>,
    ws: Vec<f32>,
}

impl Cae {
    pub fn new(n: usize, c_in: usize, hw: usize, c_out: usize, x_lo: f32) -> Cae {
        let c = conv(n, c_in, hw, c_out, 5);
        let (oh, ow) = (c.out_h(), c.out_w());
        let pool = pool2(n * c_out, oh);
        let tconv = ConvTranspose2d {
            n,
            c_in: c_out,
            h: oh,
            w: ow,
            c_out: c_in,
            kh: 5,
            kw: 5,
            sh: 1,
            sw: 1,
            ph: 0,
            pw: 0,
            oph: 0,
            opw: 0,
        };
        tconv.validate().unwrap();
        let ws = c.workspace_len().max(tconv.workspace_len());
        Cae {
            x: fill(c.x_len(), 9, x_lo, 1.0),
            w: glorot(c.w_len(), c_in * 25, c_out * 25, 1),
            b: vec![0.0; c_out],
            b2: vec![0.0; c_in],
            dw: vec![0.0; c.w_len()],
            db: vec![0.0; c_out],
            db2: vec![0.0; c_in],
            a: vec![0.0; c.y_len()],
            h: vec![0.0; c.y_len()],
            p: vec![0.0; pool.y_len()],
            sw: vec![0; pool.y_len()],
            u: vec![0.0; c.y_len()],
            r: vec![0.0; c.x_len()],
            y: vec![0.0; c.x_len()],
            g: vec![0.0; c.x_len()],
            dr: vec![0.0; c.x_len()],
            du: vec![0.0; c.y_len()],
            dp: vec![0.0; pool.y_len()],
            dh: vec![0.0; c.y_len()],
            da: vec![0.0; c.y_len()],
            ws: vec![0.0; ws],
            conv: c,
            tconv,
            pool,
        }
    }

    /// zeroGrad + trainStep + SGD step; returns the loss.
    pub fn step(&mut self, pr: &mut Prof) -> f32 {
        let s = self;
        pr.op("zero_grad", || {
            s.dw.fill(0.0);
            s.db.fill(0.0);
            s.db2.fill(0.0);
        });
        pr.op("conv2d", || {
            conv2d(&s.conv, &s.x, &s.w, Some(&s.b), &mut s.a, &mut s.ws)
        });
        pr.op("activation", || {
            activation(Activation::Tanh, 0.0, &s.a, &mut s.h)
        });
        pr.op("max_pool2d", || {
            max_pool2d(&s.pool, &s.h, &mut s.p, &mut s.sw)
        });
        pr.op("max_unpool2d", || {
            max_unpool2d(&s.pool, &s.p, &s.sw, &mut s.u)
        });
        pr.op("conv_transpose2d", || {
            conv_transpose2d(&s.tconv, &s.u, &s.w, Some(&s.b2), &mut s.r, &mut s.ws)
        });
        pr.op("activation", || {
            activation(Activation::Identity, 0.0, &s.r, &mut s.y)
        });
        let loss = pr.op("mse_loss", || mse_loss(&s.y, &s.x, Some(&mut s.g)));
        pr.op("activation_backward", || {
            activation_backward(Activation::Identity, 0.0, &s.y, &s.g, &mut s.dr)
        });
        pr.op("conv_transpose2d_backward_weight", || {
            conv_transpose2d_backward_weight(&s.tconv, &s.u, &s.dr, &mut s.dw, &mut s.ws)
        });
        pr.op("bias_backward", || {
            bias_backward(
                s.tconv.n,
                s.tconv.c_out,
                s.conv.h * s.conv.w,
                &s.dr,
                &mut s.db2,
            )
        });
        pr.op("conv_transpose2d_backward_input", || {
            conv_transpose2d_backward_input(&s.tconv, &s.dr, &s.w, &mut s.du, &mut s.ws)
        });
        pr.op("max_unpool2d_backward", || {
            max_unpool2d_backward(&s.pool, &s.du, &s.sw, &mut s.dp)
        });
        pr.op("max_pool2d_backward", || {
            max_pool2d_backward(&s.pool, &s.dp, &s.sw, &mut s.dh)
        });
        pr.op("activation_backward", || {
            activation_backward(Activation::Tanh, 0.0, &s.h, &s.dh, &mut s.da)
        });
        pr.op("conv2d_backward_weight", || {
            conv2d_backward_weight(&s.conv, &s.x, &s.da, &mut s.dw, &mut s.ws)
        });
        let p = s.conv.out_h() * s.conv.out_w();
        pr.op("bias_backward", || {
            bias_backward(s.conv.n, s.conv.c_out, p, &s.da, &mut s.db)
        });
        pr.op("sgd_step", || {
            sgd_step(&mut s.w, &s.dw, &mut [], LR, 0.0, 0.0, false);
            sgd_step(&mut s.b, &s.db, &mut [], LR, 0.0, 0.0, false);
            sgd_step(&mut s.b2, &s.db2, &mut [], LR, 0.0, 0.0, false);
        });
        loss
    }
}

/// A conv layer's parameters and buffers.
struct ConvL {
    s: Conv2d,
    pool: Pool2d,
    w: Vec<f32>,
    b: Vec<f32>,
    dw: Vec<f32>,
    db: Vec<f32>,
    a: Vec<f32>,
    h: Vec<f32>,
    p: Vec<f32>,
    sw: Vec<u32>,
    dh: Vec<f32>,
    da: Vec<f32>,
    dx: Vec<f32>,
}

impl ConvL {
    fn new(s: Conv2d, seed: u32) -> ConvL {
        let pool = pool2(s.n * s.c_out, s.out_h());
        ConvL {
            w: glorot(s.w_len(), s.c_in * 25, s.c_out * 25, seed),
            b: fill(s.c_out, seed + 1, -0.01, 0.01),
            dw: vec![0.0; s.w_len()],
            db: vec![0.0; s.c_out],
            a: vec![0.0; s.y_len()],
            h: vec![0.0; s.y_len()],
            p: vec![0.0; pool.y_len()],
            sw: vec![0; pool.y_len()],
            dh: vec![0.0; s.y_len()],
            da: vec![0.0; s.y_len()],
            dx: vec![0.0; s.x_len()],
            s,
            pool,
        }
    }

    fn forward(&mut self, x: &[f32], ws: &mut [f32], pr: &mut Prof) {
        let l = self;
        pr.op("conv2d", || conv2d(&l.s, x, &l.w, Some(&l.b), &mut l.a, ws));
        pr.op("activation", || {
            activation(Activation::Tanh, 0.0, &l.a, &mut l.h)
        });
        pr.op("max_pool2d", || {
            max_pool2d(&l.pool, &l.h, &mut l.p, &mut l.sw)
        });
    }

    /// Backward from `dp`, the pooled output's gradient.
    fn backward(&mut self, x: &[f32], dp: &[f32], input_grad: bool, ws: &mut [f32], pr: &mut Prof) {
        let l = self;
        pr.op("max_pool2d_backward", || {
            max_pool2d_backward(&l.pool, dp, &l.sw, &mut l.dh)
        });
        pr.op("activation_backward", || {
            activation_backward(Activation::Tanh, 0.0, &l.h, &l.dh, &mut l.da)
        });
        pr.op("conv2d_backward_weight", || {
            conv2d_backward_weight(&l.s, x, &l.da, &mut l.dw, ws)
        });
        let p = l.s.out_h() * l.s.out_w();
        pr.op("bias_backward", || {
            bias_backward(l.s.n, l.s.c_out, p, &l.da, &mut l.db)
        });
        if input_grad {
            pr.op("conv2d_backward_input", || {
                conv2d_backward_input(&l.s, &l.da, &l.w, &mut l.dx, ws)
            });
        }
    }
}

struct DenseL {
    s: Dense,
    w: Vec<f32>,
    b: Vec<f32>,
    dw: Vec<f32>,
    db: Vec<f32>,
    y: Vec<f32>,
    dx: Vec<f32>,
}

impl DenseL {
    fn new(s: Dense, seed: u32) -> DenseL {
        DenseL {
            w: glorot(s.w_len(), s.inp, s.out, seed),
            b: fill(s.out, seed + 1, -0.01, 0.01),
            dw: vec![0.0; s.w_len()],
            db: vec![0.0; s.out],
            y: vec![0.0; s.y_len()],
            dx: vec![0.0; s.x_len()],
            s,
        }
    }
}

/// The W3/W4 CNN: conv 20 5×5 + tanh + pool, conv 50 5×5 + tanh + pool,
/// dense 800→500 + relu, dense 500→10, softmax cross-entropy.
pub struct Cnn {
    x: Vec<f32>,
    labels: Vec<u32>,
    c1: ConvL,
    c2: ConvL,
    d1: DenseL,
    r1: Vec<f32>,
    dr1: Vec<f32>,
    d2: DenseL,
    g: Vec<f32>,
    dflat: Vec<f32>,
    ws: Vec<f32>,
}

impl Cnn {
    pub fn new(n: usize) -> Cnn {
        let c1 = ConvL::new(conv(n, 1, 28, 20, 5), 1);
        let c2 = ConvL::new(conv(n, 20, 12, 50, 5), 3);
        let d1 = DenseL::new(
            Dense {
                n,
                inp: 800,
                out: 500,
            },
            5,
        );
        let d2 = DenseL::new(
            Dense {
                n,
                inp: 500,
                out: 10,
            },
            7,
        );
        let ws = [
            c1.s.workspace_len(),
            c2.s.workspace_len(),
            d1.s.workspace_len(),
            d2.s.workspace_len(),
        ]
        .into_iter()
        .max()
        .unwrap();
        Cnn {
            x: fill(n * 784, 10, 0.0, 1.0),
            labels: (0..n as u32).map(|i| (i * 7 + 3) % 10).collect(),
            r1: vec![0.0; n * 500],
            dr1: vec![0.0; n * 500],
            g: vec![0.0; n * 10],
            dflat: vec![0.0; n * 800],
            ws: vec![0.0; ws],
            c1,
            c2,
            d1,
            d2,
        }
    }

    /// The logits (forward only).
    pub fn forward(&mut self, pr: &mut Prof) -> f32 {
        let s = self;
        s.c1.forward(&s.x, &mut s.ws, pr);
        s.c2.forward(&s.c1.p, &mut s.ws, pr);
        pr.op("dense", || {
            dense(
                &s.d1.s,
                &s.c2.p,
                &s.d1.w,
                Some(&s.d1.b),
                &mut s.d1.y,
                &mut s.ws,
            )
        });
        pr.op("activation", || {
            activation(Activation::Relu, 0.0, &s.d1.y, &mut s.r1)
        });
        pr.op("dense", || {
            dense(
                &s.d2.s,
                &s.r1,
                &s.d2.w,
                Some(&s.d2.b),
                &mut s.d2.y,
                &mut s.ws,
            )
        });
        s.d2.y[0]
    }

    /// zeroGrad + trainStep + SGD step; returns the loss.
    pub fn step(&mut self, pr: &mut Prof) -> f32 {
        pr.op("zero_grad", || {
            for g in [
                &mut self.c1.dw,
                &mut self.c1.db,
                &mut self.c2.dw,
                &mut self.c2.db,
                &mut self.d1.dw,
                &mut self.d1.db,
                &mut self.d2.dw,
                &mut self.d2.db,
            ] {
                g.fill(0.0);
            }
        });
        self.forward(pr);
        let s = self;
        let n = s.d2.s.n;
        let loss = pr.op("softmax_cross_entropy", || {
            softmax_cross_entropy(n, 10, &s.d2.y, &s.labels, Some(&mut s.g))
        });
        pr.op("dense_backward_weight", || {
            dense_backward_weight(&s.d2.s, &s.r1, &s.g, &mut s.d2.dw, &mut s.ws)
        });
        pr.op("bias_backward", || {
            bias_backward(n, 10, 1, &s.g, &mut s.d2.db)
        });
        pr.op("dense_backward_input", || {
            dense_backward_input(&s.d2.s, &s.g, &s.d2.w, &mut s.d2.dx, &mut s.ws)
        });
        pr.op("activation_backward", || {
            activation_backward(Activation::Relu, 0.0, &s.r1, &s.d2.dx, &mut s.dr1)
        });
        pr.op("dense_backward_weight", || {
            dense_backward_weight(&s.d1.s, &s.c2.p, &s.dr1, &mut s.d1.dw, &mut s.ws)
        });
        pr.op("bias_backward", || {
            bias_backward(n, 500, 1, &s.dr1, &mut s.d1.db)
        });
        pr.op("dense_backward_input", || {
            dense_backward_input(&s.d1.s, &s.dr1, &s.d1.w, &mut s.dflat, &mut s.ws)
        });
        s.c2.backward(&s.c1.p, &s.dflat, true, &mut s.ws, pr);
        s.c1.backward(&s.x, &s.c2.dx, false, &mut s.ws, pr);
        pr.op("sgd_step", || {
            for l in [&mut s.c1, &mut s.c2] {
                sgd_step(&mut l.w, &l.dw, &mut [], LR, 0.0, 0.0, false);
                sgd_step(&mut l.b, &l.db, &mut [], LR, 0.0, 0.0, false);
            }
            for l in [&mut s.d1, &mut s.d2] {
                sgd_step(&mut l.w, &l.dw, &mut [], LR, 0.0, 0.0, false);
                sgd_step(&mut l.b, &l.db, &mut [], LR, 0.0, 0.0, false);
            }
        });
        loss
    }
}
