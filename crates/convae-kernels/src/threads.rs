//! Intra-op parallelism for native builds, on `std::thread` only.
//!
//! `set(n)` / `get()` hold the thread count ops may use (default 1: every op
//! runs on the calling thread, exactly as before). With `n > 1` the ops that
//! pay for it (convolutions, dense layers, the big element-wise ones) cut their
//! work into `n` parts by a rule that depends only on `n` and the shape:
//! images of the batch, GEMM column blocks, element ranges, planes. Parts write
//! disjoint outputs, so those results are bit-identical for every `n`. Weight
//! gradients are the exception: part `t` sums its images into its own buffer
//! and the calling thread adds the buffers to `dw` in the order `t = 1, 2, ..`
//! after part 0 accumulated straight into `dw` — deterministic for a given
//! `n`, different rounding across `n`.
//!
//! Each calling thread owns a small pool of helper threads (created on first
//! use, `n - 1` of them, ended when the calling thread ends), so Node's
//! `worker_threads`, each calling ops, never share or wait on one another's
//! helpers. Parts are claimed dynamically: a helper that has not woken up yet
//! (a busy machine) does not delay the call, the calling thread takes its part.
//! A call made from inside a part runs sequentially. Helpers run a job on the
//! caller's ISA (`isa::active()`, pinned or detected).

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// Upper bound of `set`.
pub const MAX_THREADS: usize = 64;

static THREADS: AtomicUsize = AtomicUsize::new(1);

/// Sets the number of threads an op may use (clamped to `1..=MAX_THREADS`).
pub fn set(n: usize) {
    THREADS.store(n.clamp(1, MAX_THREADS), Ordering::Relaxed);
}

/// The number of threads an op may use (default 1).
pub fn get() -> usize {
    THREADS.load(Ordering::Relaxed)
}

/// How many parts to cut `units` units of work into, given at least
/// `min_units` per part: `min(get(), units / min_units)`, at least 1.
/// Inside a part (a nested call): 1.
pub(crate) fn parts_for(units: usize, min_units: usize) -> usize {
    if IN_PART.with(|p| p.get()) {
        return 1;
    }
    get().min(units / min_units.max(1)).max(1)
}

/// Runs `f(lo, hi)` over plane ranges `[lo, hi)` of `planes` planes of
/// `plane_elems` elements, at least `PAR_ELEMS` elements per part; one call
/// `f(0, planes)` when that leaves a single part.
pub(crate) fn split_planes(planes: usize, plane_elems: usize, f: &(dyn Fn(usize, usize) + Sync)) {
    split(planes, 1, PAR_ELEMS.div_ceil(plane_elems.max(1)), f)
}

/// `[lo, hi)` of part `t` of `parts` over `n` units (contiguous, in order,
/// sizes differing by at most one).
pub(crate) fn range(n: usize, t: usize, parts: usize) -> (usize, usize) {
    (n * t / parts, n * (t + 1) / parts)
}

/// A job: a borrowed closure, its lifetime erased (the caller waits for every
/// part before returning, so the borrow outlives every use).
#[derive(Clone, Copy)]
struct Job {
    f: *const (dyn Fn(usize, &mut Vec<f32>) + Sync),
    parts: usize,
    /// The caller's ISA (`isa::active()`), which helpers take on for the job.
    isa: crate::isa::Isa,
}

// SAFETY: the closure is `Sync`; the pointer is only dereferenced while the
// submitting call is waiting for the job to finish.
unsafe impl Send for Job {}

struct State {
    job: Option<Job>,
    /// Counts jobs, so a helper joins each job at most once.
    gen: u64,
    /// Next unclaimed part of `job`.
    next: usize,
    /// Parts claimed but not finished.
    running: usize,
    panicked: bool,
    shutdown: bool,
}

struct Shared {
    state: Mutex<State>,
    work: Condvar,
    done: Condvar,
    /// Scratch buffer of each part (index = part), kept between calls.
    scratch: Vec<Mutex<Vec<f32>>>,
}

struct Pool {
    shared: Arc<Shared>,
    helpers: Vec<JoinHandle<()>>,
}

thread_local! {
    static POOL: RefCell<Option<Pool>> = const { RefCell::new(None) };
    static IN_PART: Cell<bool> = const { Cell::new(false) };
}

impl Shared {
    /// Claims and runs parts of job number `gen` until none is left (or a
    /// later job replaced it).
    fn work_on(&self, job: Job, gen: u64) {
        loop {
            let t = {
                let mut st = self.state.lock().unwrap();
                if st.gen != gen || st.next >= job.parts {
                    return;
                }
                st.next += 1;
                st.running += 1;
                st.next - 1
            };
            let mut buf = self.scratch[t].lock().unwrap();
            // SAFETY: see `Job`; the submitter waits for `running == 0`.
            let f = unsafe { &*job.f };
            let ok =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(t, &mut buf))).is_ok();
            drop(buf);
            let mut st = self.state.lock().unwrap();
            st.running -= 1;
            st.panicked |= !ok;
            if st.running == 0 && st.next >= job.parts {
                self.done.notify_all();
            }
        }
    }
}

fn helper(shared: Arc<Shared>) {
    IN_PART.with(|p| p.set(true));
    let mut seen = 0u64;
    loop {
        let job = {
            let mut st = shared.state.lock().unwrap();
            loop {
                if st.shutdown {
                    return;
                }
                match st.job {
                    Some(j) if st.gen != seen && st.next < j.parts => {
                        seen = st.gen;
                        break j;
                    }
                    _ => st = shared.work.wait(st).unwrap(),
                }
            }
        };
        crate::isa::pin_thread(Some(job.isa));
        shared.work_on(job, seen);
    }
}

impl Pool {
    fn new(helpers: usize) -> Pool {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                job: None,
                gen: 0,
                next: 0,
                running: 0,
                panicked: false,
                shutdown: false,
            }),
            work: Condvar::new(),
            done: Condvar::new(),
            scratch: (0..MAX_THREADS).map(|_| Mutex::new(Vec::new())).collect(),
        });
        let helpers = (0..helpers)
            .map(|_| {
                let s = shared.clone();
                std::thread::Builder::new()
                    .name("convae-kernels".into())
                    .spawn(move || helper(s))
                    .expect("convae-kernels: cannot start a helper thread")
            })
            .collect();
        Pool { shared, helpers }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.state.lock().unwrap().shutdown = true;
        self.shared.work.notify_all();
        for h in self.helpers.drain(..) {
            let _ = h.join();
        }
    }
}

/// Runs `f(t, scratch)` for every part `t < parts` (`parts <= MAX_THREADS`),
/// on this thread and up to `parts - 1` helpers; returns when all are done.
/// `scratch` is part `t`'s own buffer, kept between calls (grow it as needed).
/// With one part, or from inside a part, everything runs here, in order.
pub(crate) fn run(parts: usize, f: &(dyn Fn(usize, &mut Vec<f32>) + Sync)) {
    run_then(parts, f, &mut |_, _| {})
}

/// `run`, then `then(t, scratch)` on this thread for `t = 0, 1, ..` in order,
/// each with the scratch part `t` used (a reduction of per-part results).
pub(crate) fn run_then(
    parts: usize,
    f: &(dyn Fn(usize, &mut Vec<f32>) + Sync),
    then: &mut dyn FnMut(usize, &mut Vec<f32>),
) {
    assert!(parts <= MAX_THREADS);
    if parts <= 1 || IN_PART.with(|p| p.get()) {
        let mut bufs: Vec<Vec<f32>> = (0..parts).map(|_| Vec::new()).collect();
        for (t, b) in bufs.iter_mut().enumerate() {
            f(t, b);
        }
        for (t, b) in bufs.iter_mut().enumerate() {
            then(t, b);
        }
        return;
    }
    POOL.with(|cell| {
        let mut pool = cell.borrow_mut();
        if pool.as_ref().is_none_or(|p| p.helpers.len() < parts - 1) {
            // Ends the old pool's helpers first (joins them).
            *pool = None;
            *pool = Some(Pool::new(parts - 1));
        }
        let shared = &pool.as_ref().unwrap().shared;
        // SAFETY (lifetime erasure): we wait below until no part runs and none
        // is left, and clear the job, before `f`'s borrow ends.
        let job = Job {
            f: unsafe {
                core::mem::transmute::<
                    *const (dyn Fn(usize, &mut Vec<f32>) + Sync + '_),
                    *const (dyn Fn(usize, &mut Vec<f32>) + Sync + 'static),
                >(f)
            },
            parts,
            isa: crate::isa::active(),
        };
        let gen = {
            let mut st = shared.state.lock().unwrap();
            st.job = Some(job);
            st.gen += 1;
            st.next = 0;
            st.running = 0;
            st.panicked = false;
            st.gen
        };
        shared.work.notify_all();
        IN_PART.with(|p| p.set(true));
        shared.work_on(job, gen);
        IN_PART.with(|p| p.set(false));
        let panicked = {
            let mut st = shared.state.lock().unwrap();
            while st.running > 0 || st.next < parts {
                st = shared.done.wait(st).unwrap();
            }
            st.job = None;
            st.panicked
        };
        assert!(
            !panicked,
            "convae-kernels: a part of a parallel op panicked"
        );
        for t in 0..parts {
            then(t, &mut shared.scratch[t].lock().unwrap());
        }
    });
}

/// Runs `f(lo, hi)` over `[0, n)` cut into parts whose bounds are multiples
/// of `align` (so a SIMD kernel's vector/tail split of each element is the
/// same as in one call), with at least `min_part` elements per part; one call
/// `f(0, n)` when that leaves a single part.
pub(crate) fn split(n: usize, align: usize, min_part: usize, f: &(dyn Fn(usize, usize) + Sync)) {
    let units = n.div_ceil(align);
    let parts = parts_for(units, min_part.div_ceil(align));
    if parts <= 1 {
        return f(0, n);
    }
    run(parts, &|t, _| {
        let (lo, hi) = range(units, t, parts);
        f(lo * align, (hi * align).min(n))
    });
}

/// Element-wise kernels use threads from this many elements per part (a
/// helper's wake-up costs about as much as 64 Ki elements of work). Tests
/// cut far smaller inputs, so they exercise the parts.
#[cfg(not(test))]
pub(crate) const PAR_ELEMS: usize = 1 << 16;
#[cfg(test)]
pub(crate) const PAR_ELEMS: usize = 1 << 8;

/// `buf[..len]`, growing `buf` first when it is shorter.
pub(crate) fn slab(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    &mut buf[..len]
}

/// A raw pointer parts may share: each part writes a disjoint range.
#[derive(Clone, Copy)]
pub(crate) struct SharedMut<T>(pub *mut T);
// SAFETY: users write disjoint ranges from different parts (stated at each use).
unsafe impl<T> Send for SharedMut<T> {}
unsafe impl<T> Sync for SharedMut<T> {}

impl<T> SharedMut<T> {
    /// The pointer (a method, so closures capture the `Sync` wrapper, not the field).
    pub(crate) fn ptr(self) -> *mut T {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_runs_once_with_its_scratch() {
        for n in [1usize, 2, 3, 5] {
            for parts in [1usize, 2, 3, 7] {
                crate::testing::with_threads(n, || {
                    let hits: Vec<AtomicUsize> = (0..parts).map(|_| AtomicUsize::new(0)).collect();
                    for _round in 0..50 {
                        run(parts, &|t, s: &mut Vec<f32>| {
                            hits[t].fetch_add(1, Ordering::Relaxed);
                            // A part's scratch is its own: it holds what this part left.
                            if let Some(&v) = s.first() {
                                assert_eq!(v, t as f32);
                            }
                            s.clear();
                            s.push(t as f32);
                        });
                    }
                    for h in &hits {
                        assert_eq!(h.load(Ordering::Relaxed), 50);
                    }
                });
            }
        }
    }

    #[test]
    fn ranges_cover_in_order() {
        for n in [0usize, 1, 5, 64, 100] {
            for parts in 1..6 {
                let mut at = 0;
                for t in 0..parts {
                    let (lo, hi) = range(n, t, parts);
                    assert_eq!(lo, at);
                    assert!(hi >= lo && hi - lo <= n / parts + 1);
                    at = hi;
                }
                assert_eq!(at, n);
            }
        }
        assert_eq!(parts_for(10, 4), 1);
    }

    #[test]
    fn nested_calls_run_inline_and_panics_reach_the_caller() {
        let total = AtomicUsize::new(0);
        run(2, &|_, _| {
            run(3, &|_, _| {
                total.fetch_add(1, Ordering::Relaxed);
            })
        });
        assert_eq!(total.load(Ordering::Relaxed), 6);
        let r = std::panic::catch_unwind(|| {
            run(2, &|t, _| {
                if t == 1 {
                    panic!("part 1 fails");
                }
            })
        });
        assert!(r.is_err());
        // The pool still works afterwards.
        let total = AtomicUsize::new(0);
        run(2, &|_, _| {
            total.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(total.load(Ordering::Relaxed), 2);
    }

    /// The element-wise ops cut into parts (activations by element ranges,
    /// pooling and unpooling by planes, the bias gradient by channels) give the
    /// bits of one thread, on every ISA, for sizes that are not multiples of
    /// the part alignment and large enough to be cut.
    #[test]
    fn elementwise_ops_bit_identical_across_threads() {
        use crate::act::{activation, activation_backward, Activation};
        use crate::bias::bias_backward;
        use crate::pool::{max_pool2d, max_pool2d_backward};
        use crate::shape::Pool2d;
        use crate::testing::{bits, each_isa, rnd, with_threads};
        use crate::unpool::{max_unpool2d, max_unpool2d_backward};
        let mut seed = 3u64;
        let p = Pool2d {
            planes: 3 * 61,
            h: 24,
            w: 26,
            kh: 2,
            kw: 2,
            sh: 2,
            sw: 2,
        };
        p.validate().unwrap();
        let n = p.x_len() + 5;
        let x = rnd(n, &mut seed);
        let dy = rnd(n, &mut seed);
        let g = rnd(p.y_len(), &mut seed);
        let db0 = rnd(61, &mut seed);
        each_isa(|isa| {
            let run = |t: usize| {
                with_threads(t, || {
                    let mut out: Vec<Vec<u32>> = Vec::new();
                    for k in [Activation::Tanh, Activation::Sigmoid, Activation::Relu] {
                        let mut y = vec![0.0; n];
                        activation(k, 0.1, &x, &mut y);
                        let mut dx = vec![0.0; n];
                        activation_backward(k, 0.1, &y, &dy, &mut dx);
                        out.push(bits(&y));
                        out.push(bits(&dx));
                    }
                    let mut y = vec![0.0; p.y_len()];
                    let mut sw = vec![0u32; p.y_len()];
                    max_pool2d(&p, &x[..p.x_len()], &mut y, &mut sw);
                    let mut dx = vec![f32::NAN; p.x_len()];
                    max_pool2d_backward(&p, &g, &sw, &mut dx);
                    let mut u = vec![f32::NAN; p.x_len()];
                    max_unpool2d(&p, &g, &sw, &mut u);
                    let mut du = vec![f32::NAN; p.y_len()];
                    max_unpool2d_backward(&p, &dy[..p.x_len()], &sw, &mut du);
                    let mut db = db0.clone();
                    bias_backward(3, 61, 24 * 26, &x[..p.x_len()], &mut db);
                    out.extend([bits(&y), sw, bits(&dx), bits(&u), bits(&du), bits(&db)]);
                    out
                })
            };
            let one = run(1);
            for t in [2usize, 3, 5] {
                let r = run(t);
                for (i, (a, b)) in r.iter().zip(&one).enumerate() {
                    assert!(a == b, "{isa:?} threads={t}: output {i} differs");
                }
            }
        });
    }
}
