//! Native GEMM and conv-forward rates per ISA against that ISA's FMA peak probe,
//! and whole W1–W4 steps built from the kernel calls (`steps.rs`).
//! `cargo run --release -p convae-kernels --example native_bench [-- --profile]`
//! (medians of repeated timings; on a shared machine the numbers are noisy).

mod steps;

use convae_kernels::conv::conv2d;
use convae_kernels::gemm::sgemm;
use convae_kernels::isa::{native_isas, pin_thread};
use convae_kernels::peak::native::{peak_flops_native, peak_fma_native};
use convae_kernels::shape::{sgemm_workspace_len, Conv2d};
use std::hint::black_box;
use std::time::Instant;

/// Median thread-CPU seconds per call of `f`, over `reps` timings of `inner`
/// calls each (CPU time: the machine is shared, see `steps::cpu_secs`).
fn median_secs(reps: usize, inner: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = steps::cpu_secs();
            for _ in 0..inner {
                f();
            }
            (steps::cpu_secs() - s) / inner as f64
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[reps / 2]
}

fn data(n: usize, seed: u32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) >> 8) as f32 / (1 << 24) as f32
                - 0.5
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(n) = args.iter().find_map(|a| a.strip_prefix("--threads=")) {
        convae_kernels::threads::set(n.parse().expect("--threads=N"));
    }
    if args.iter().any(|a| a == "--profile") {
        return profile();
    }
    if args.iter().any(|a| a == "--ab") {
        return ab();
    }
    if let Some(w) = args.iter().find_map(|a| a.strip_prefix("--spin=")) {
        return spin(w);
    }
    let w2 = Conv2d {
        n: 64,
        c_in: 20,
        h: 12,
        w: 12,
        c_out: 50,
        kh: 5,
        kw: 5,
        sh: 1,
        sw: 1,
        ph: 0,
        pw: 0,
    };
    w2.validate().unwrap();
    let (x, wt) = (data(w2.x_len(), 1), data(w2.w_len(), 2));
    let mut y = vec![0.0; w2.y_len()];
    let mut wsc = vec![0.0; w2.workspace_len()];
    let conv_flops = 2.0 * (w2.n * w2.c_out * w2.col_rows() * w2.col_cols()) as f64;
    // GEMM shapes: square 512, and one W2 image's forward GEMM (50 x 64, k = 500).
    let gemms = [
        (512usize, 512usize, 512usize),
        (50, 64, 500),
        (256, 576, 25),
    ];
    // Rounds interleave the ISAs and each round times the probe right beside the
    // kernels, so load from other processes hits both; medians over rounds.
    let rounds = 5;
    let isas = native_isas();
    // [isa][quantity][round]: probe, the gemms, conv.
    let mut rec = vec![vec![Vec::new(); 2 + gemms.len()]; isas.len()];
    for _ in 0..rounds {
        for (ii, &isa) in isas.iter().enumerate() {
            assert!(pin_thread(Some(isa)));
            let it = 1_000_000u32;
            let peak = peak_flops_native(isa, it)
                / median_secs(5, 1, || {
                    black_box(peak_fma_native(isa, black_box(it)));
                })
                / 1e9;
            rec[ii][0].push(peak);
            for (g, &(m, n, k)) in gemms.iter().enumerate() {
                let (a, b) = (data(m * k, 3), data(k * n, 4));
                let mut c = vec![0.0; m * n];
                let mut ws = vec![0.0; sgemm_workspace_len(m, n, k)];
                let inner = (1e8 / (2.0 * (m * n * k) as f64)).ceil() as usize;
                let s = median_secs(5, inner, || {
                    sgemm(m, n, k, &a, k, 1, &b, n, 1, &mut c, n, false, &mut ws);
                });
                rec[ii][1 + g].push(2.0 * (m * n * k) as f64 / s / 1e9);
            }
            let s = median_secs(5, 1, || conv2d(&w2, &x, &wt, None, &mut y, &mut wsc));
            rec[ii][1 + gemms.len()].push(conv_flops / s / 1e9);
        }
    }
    pin_thread(None);
    let med = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("medians of {rounds} interleaved rounds; % = median over rounds of (rate / that round's probe)");
    println!("isa     probe GFLOP/s | GEMM m x n x k: GFLOP/s (% of probe) | conv W2 fwd [64,20,12,12]*[50,20,5,5]");
    for (ii, isa) in isas.iter().enumerate() {
        let r = &rec[ii];
        let pct = |q: usize| {
            med(&r[q]
                .iter()
                .zip(&r[0])
                .map(|(x, p)| 100.0 * x / p)
                .collect::<Vec<_>>())
        };
        let mut line = format!("{:<7} {:>8.1}       |", format!("{isa:?}"), med(&r[0]));
        for (g, &(m, n, k)) in gemms.iter().enumerate() {
            line += &format!(" {m}x{n}x{k}: {:.1} ({:.0} %)", med(&r[1 + g]), pct(1 + g));
        }
        let q = 1 + gemms.len();
        line += &format!(" | {:.1} GFLOP/s ({:.0} %)", med(&r[q]), pct(q));
        println!("{line}");
    }
}

/// Per-operation breakdown (thread CPU time) of one step of each workload on the detected ISA.
fn profile() {
    let mut w1 = steps::Cae::new(64, 1, 28, 20, 0.0);
    let mut w2 = steps::Cae::new(64, 20, 12, 50, -1.0);
    let mut w3 = steps::Cnn::new(64);
    let mut w4 = steps::Cnn::new(256);
    let reps = 40;
    let run = |name: &str, batch: usize, f: &mut dyn FnMut(&mut steps::Prof)| {
        let mut pr = steps::Prof::default();
        for _ in 0..3 {
            f(&mut pr);
        }
        pr.on = true;
        let t = steps::cpu_secs();
        for _ in 0..reps {
            f(&mut pr);
        }
        let total = (steps::cpu_secs() - t) / reps as f64;
        println!(
            "{name}: {:.3} ms CPU/step = {:.0} images/CPU-s",
            total * 1e3,
            batch as f64 / total
        );
        let mut v = pr.t.clone();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (op, s) in v {
            let s = s / reps as f64;
            println!(
                "  {op:<34} {:>8.3} ms {:>5.1} %",
                s * 1e3,
                100.0 * s / total
            );
        }
    };
    run("W1", 64, &mut |p| {
        w1.step(p);
    });
    run("W2", 64, &mut |p| {
        w2.step(p);
    });
    run("W3", 64, &mut |p| {
        w3.step(p);
    });
    run("W4", 256, &mut |p| {
        w4.forward(p);
    });
}

/// Runs one workload's step in a loop for a sampling profiler
/// (`perf record -e cpu-clock ... -- --spin=W2`).
fn spin(w: &str) {
    let mut pr = steps::Prof::default();
    let t = Instant::now();
    match w {
        "W1" | "W2" => {
            let mut s = if w == "W1" {
                steps::Cae::new(64, 1, 28, 20, 0.0)
            } else {
                steps::Cae::new(64, 20, 12, 50, -1.0)
            };
            while t.elapsed().as_secs_f64() < 10.0 {
                s.step(&mut pr);
            }
        }
        "W3" => {
            let mut s = steps::Cnn::new(64);
            while t.elapsed().as_secs_f64() < 10.0 {
                s.step(&mut pr);
            }
        }
        "conv-W2" => {
            let c = steps::w2_conv();
            let (x, wt) = (data(c.x_len(), 1), data(c.w_len(), 2));
            let mut y = vec![0.0; c.y_len()];
            let mut ws = vec![0.0; c.workspace_len()];
            while t.elapsed().as_secs_f64() < 10.0 {
                conv2d(&c, &x, &wt, None, &mut y, &mut ws);
            }
        }
        _ => {
            let mut s = steps::Cnn::new(256);
            while t.elapsed().as_secs_f64() < 10.0 {
                s.forward(&mut pr);
            }
        }
    }
}

/// Best-of CPU times of a few kernels, for comparing two builds run in
/// alternation (`--ab`): conv W2 forward and the W2/W3 steps.
fn ab() {
    // One thread: CPU time; more: wall time (the helpers' CPU time is not the caller's).
    let clock = || {
        if convae_kernels::threads::get() > 1 {
            wall_secs()
        } else {
            steps::cpu_secs()
        }
    };
    let best = |reps: usize, f: &mut dyn FnMut()| {
        f();
        (0..reps)
            .map(|_| {
                let s = clock();
                f();
                clock() - s
            })
            .fold(f64::INFINITY, f64::min)
    };
    let c = steps::w2_conv();
    let (x, wt) = (data(c.x_len(), 1), data(c.w_len(), 2));
    let mut y = vec![0.0; c.y_len()];
    let mut ws = vec![0.0; c.workspace_len()];
    let flops = 2.0 * (c.n * c.c_out * c.col_rows() * c.col_cols()) as f64;
    let t = best(60, &mut || conv2d(&c, &x, &wt, None, &mut y, &mut ws));
    let mut dw = vec![0.0; c.w_len()];
    let tw = best(30, &mut || {
        convae_kernels::conv::conv2d_backward_weight(&c, &x, &y, &mut dw, &mut ws)
    });
    let mut dx = vec![0.0; c.x_len()];
    let ti = best(30, &mut || {
        convae_kernels::conv::conv2d_backward_input(&c, &y, &wt, &mut dx, &mut ws)
    });
    let mut pr = steps::Prof::default();
    let mut w2 = steps::Cae::new(64, 20, 12, 50, -1.0);
    let t2 = best(30, &mut || {
        w2.step(&mut pr);
    });
    let mut w3 = steps::Cnn::new(64);
    let t3 = best(30, &mut || {
        w3.step(&mut pr);
    });
    println!(
        "conv W2 {:.1} GFLOP/s, bw weight {:.1}, bw input {:.1} | W2 step {:.3} ms | W3 step {:.3} ms",
        flops / t / 1e9,
        flops / tw / 1e9,
        flops / ti / 1e9,
        t2 * 1e3,
        t3 * 1e3
    );
}

/// Seconds since the first call (wall clock).
fn wall_secs() -> f64 {
    static T0: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    T0.get_or_init(Instant::now).elapsed().as_secs_f64()
}
