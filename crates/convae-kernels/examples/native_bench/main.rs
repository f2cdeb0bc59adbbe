//! Native GEMM and convolution rates per ISA against that ISA's FMA peak
//! probe, and whole W1–W4 steps built from the kernel calls (`steps.rs`) at 1
//! and 2 threads. On a shared machine numbers are noisy: rounds alternate the
//! configurations, and the load average is printed.
//!
//! `cargo run --release -p convae-kernels --example native_bench -- [options]`
//! - (none): both tables; `--rates-only`, `--steps-only`; `--rounds=N` (5)
//! - `--profile`: one step of each workload broken down by operation (CPU time)
//! - `--ab`: best-of CPU times of conv W2 and the W2/W3 steps, for comparing
//!   two builds run in alternation
//! - `--spin=W1|W2|W3|W4|conv-W2`: loop for 10 s under a sampling profiler
//! - `--act`: tanh and sigmoid forward per SIMD ISA, as one JSON line: the
//!   child bench/activation-ab.ts runs for each saved build of this example
//! - `--threads=N`: `threads::set(N)` first (for `--ab`, `--profile`, `--spin`)

mod steps;

use convae_kernels::act::{activation, Activation};
use convae_kernels::conv::{conv2d, conv2d_backward_input, conv2d_backward_weight};
use convae_kernels::gemm::sgemm;
use convae_kernels::isa::{native_isas, pin_thread, Isa};
use convae_kernels::peak::native::{peak_flops_native, peak_fma_native};
use convae_kernels::shape::sgemm_workspace_len;
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
    if args.iter().any(|a| a == "--act") {
        return act();
    }
    if let Some(w) = args.iter().find_map(|a| a.strip_prefix("--spin=")) {
        return spin(w);
    }
    let rounds: usize = args
        .iter()
        .find_map(|a| a.strip_prefix("--rounds="))
        .map_or(5, |r| r.parse().expect("--rounds=N"));
    println!("load average at start: {}", loadavg());
    if !args.iter().any(|a| a == "--steps-only") {
        rates(rounds);
    }
    if !args.iter().any(|a| a == "--rates-only") {
        steps_bench(rounds);
    }
    println!("load average at end: {}", loadavg());
}

/// /proc/loadavg's first three fields.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Median of `v`.
fn med(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Per ISA: the FMA probe, GEMMs and the W2 convolutions (forward, weight
/// gradient, input gradient = the transposed conv's forward), GFLOP/s in
/// thread CPU time and % of the probe measured in the same round. Rounds
/// interleave the ISAs; medians over rounds.
fn rates(rounds: usize) {
    let w2 = steps::w2_conv();
    let (x, wt) = (data(w2.x_len(), 1), data(w2.w_len(), 2));
    let mut y = data(w2.y_len(), 3);
    let mut dw = vec![0.0; w2.w_len()];
    let mut dx = vec![0.0; w2.x_len()];
    let mut wsc = vec![0.0; w2.workspace_len()];
    let conv_flops = 2.0 * (w2.n * w2.c_out * w2.col_rows() * w2.col_cols()) as f64;
    // Square 512; one W2 image's forward GEMM (50 x 64, k = 500); a W1-like
    // short-k product; W3's dense layer (64 x 500, k = 800).
    let gemms = [
        (512usize, 512usize, 512usize),
        (50, 64, 500),
        (256, 576, 25),
        (64, 500, 800),
    ];
    let isas = native_isas();
    // [isa][quantity][round]: probe, the gemms, conv forward, weight grad, input grad.
    let q_conv = 1 + gemms.len();
    let mut rec = vec![vec![Vec::new(); q_conv + 3]; isas.len()];
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
            rec[ii][q_conv].push(conv_flops / s / 1e9);
            let s = median_secs(5, 1, || {
                conv2d_backward_weight(&w2, &x, &y, &mut dw, &mut wsc)
            });
            rec[ii][q_conv + 1].push(conv_flops / s / 1e9);
            let s = median_secs(5, 1, || {
                conv2d_backward_input(&w2, &y, &wt, &mut dx, &mut wsc)
            });
            rec[ii][q_conv + 2].push(conv_flops / s / 1e9);
        }
    }
    pin_thread(None);
    println!(
        "\nGFLOP/s, one thread, thread CPU time; medians of {rounds} rounds interleaving the ISAs; (% = median over rounds of rate / that round's probe)"
    );
    let mut head = "| ISA | probe |".to_string();
    for &(m, n, k) in &gemms {
        head += &format!(" GEMM {m}x{n}x{k} |");
    }
    head += " conv W2 forward | conv W2 weight grad | conv W2 input grad |";
    println!("{head}");
    println!("|{}", "---|".repeat(2 + gemms.len() + 3));
    for (ii, isa) in isas.iter().enumerate() {
        let r = &rec[ii];
        let pct = |v: &[f64]| {
            med(&v
                .iter()
                .zip(&r[0])
                .map(|(x, p)| 100.0 * x / p)
                .collect::<Vec<_>>())
        };
        let mut line = format!("| {isa:?} | {:.1} |", med(&r[0]));
        for v in &r[1..] {
            line += &format!(" {:.1} ({:.0} %) |", med(v), pct(v));
        }
        println!("{line}");
    }
}

/// W1–W4 steps on the detected ISA at 1 and 2 threads (`threads::set`),
/// rounds alternating the thread counts; images/s from wall-clock medians
/// (a round: 20 steps of W1–W3, 8 of W4 after 3 warm-up steps), and for 1
/// thread also from thread CPU time.
fn steps_bench(rounds: usize) {
    let mut w1 = steps::Cae::new(64, 1, 28, 20, 0.0);
    let mut w2 = steps::Cae::new(64, 20, 12, 50, -1.0);
    let mut w3 = steps::Cnn::new(64);
    let mut w4 = steps::Cnn::new(256);
    let mut pr = steps::Prof::default();
    let counts = [1usize, 2];
    // [workload][thread count]: per-round medians (wall; process CPU), and 1-thread thread CPU.
    let mut wall = vec![vec![Vec::new(); counts.len()]; 4];
    let mut pcpu = vec![vec![Vec::new(); counts.len()]; 4];
    let mut cpu = vec![Vec::new(); 4];
    for _ in 0..rounds {
        for (ci, &t) in counts.iter().enumerate() {
            convae_kernels::threads::set(t);
            for (wi, batch) in [64usize, 64, 64, 256].into_iter().enumerate() {
                let mut step = || {
                    black_box(match wi {
                        0 => w1.step(&mut pr),
                        1 => w2.step(&mut pr),
                        2 => w3.step(&mut pr),
                        _ => w4.forward(&mut pr),
                    });
                };
                for _ in 0..3 {
                    step();
                }
                let n = if wi == 3 { 8 } else { 20 };
                let (mut ws, mut cs, mut ps) = (Vec::new(), Vec::new(), Vec::new());
                for _ in 0..n {
                    let (t0, c0, p0) = (wall_secs(), steps::cpu_secs(), steps::process_cpu_secs());
                    step();
                    ws.push(batch as f64 / (wall_secs() - t0));
                    cs.push(batch as f64 / (steps::cpu_secs() - c0));
                    ps.push(batch as f64 / (steps::process_cpu_secs() - p0));
                }
                wall[wi][ci].push(med(&ws));
                pcpu[wi][ci].push(med(&ps));
                if t == 1 {
                    cpu[wi].push(med(&cs));
                }
            }
        }
    }
    convae_kernels::threads::set(1);
    println!(
        "\nW1–W4 steps ({:?}), images/s: medians over {rounds} rounds of each round's median (rounds alternate 1 and 2 threads)",
        convae_kernels::isa::detected()
    );
    println!("(process CPU: images per CPU-second of all the process's threads; 2 threads ÷ 1 thread there is the work the parts add, near 1 when cutting a step costs nothing)");
    println!("| workload | 1 thread (wall) | 1 thread (thread CPU) | 2 threads (wall) | 2 / 1 (wall) | 2 threads (process CPU) | 2 / 1 (process CPU) |");
    println!("|---|---|---|---|---|---|---|");
    for (wi, name) in ["W1", "W2", "W3", "W4"].iter().enumerate() {
        let (one, two) = (med(&wall[wi][0]), med(&wall[wi][1]));
        let (p1, p2) = (med(&pcpu[wi][0]), med(&pcpu[wi][1]));
        println!(
            "| {name} | {one:.0} | {:.0} | {two:.0} | {:.2}x | {p2:.0} | {:.2}x |",
            med(&cpu[wi]),
            two / one,
            p2 / p1
        );
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
        conv2d_backward_weight(&c, &x, &y, &mut dw, &mut ws)
    });
    let mut dx = vec![0.0; c.x_len()];
    let ti = best(30, &mut || {
        conv2d_backward_input(&c, &y, &wt, &mut dx, &mut ws)
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

/// Median thread-CPU ms per call of tanh and sigmoid forward, on each SIMD ISA
/// the CPU has, at bench/activation-ab.ts's sizes and data, printed as one JSON
/// line keyed `"<isa> <case>"`. The addon cannot be pinned to AVX2 on an
/// AVX-512 machine; this can, and it leaves out the JS call around the kernel.
fn act() {
    let cases = [
        ("tanh 64×20×24×24", Activation::Tanh, 64 * 20 * 24 * 24),
        ("tanh 64×50×8×8", Activation::Tanh, 64 * 50 * 8 * 8),
        ("tanh 64×500", Activation::Tanh, 64 * 500),
        (
            "sigmoid 64×20×24×24",
            Activation::Sigmoid,
            64 * 20 * 24 * 24,
        ),
    ];
    let mut out = Vec::new();
    for isa in native_isas().into_iter().filter(|&i| i != Isa::Scalar) {
        assert!(pin_thread(Some(isa)));
        for &(name, kind, n) in &cases {
            let x: Vec<f32> = (0..n)
                .map(|i| 4.0 * (i as f64 * 0.7312).sin() as f32)
                .collect();
            let mut y = vec![0.0; n];
            // About 40 ms of calls a sample, 15 samples after a warm-up call.
            let t0 = Instant::now();
            let mut inner = 0;
            while t0.elapsed().as_secs_f64() < 0.04 {
                activation(kind, 0.0, &x, &mut y);
                inner += 1;
            }
            let s = median_secs(15, inner, || activation(kind, 0.0, &x, black_box(&mut y)));
            out.push(format!(
                "\"{} {name}\":{}",
                format!("{isa:?}").to_lowercase(),
                s * 1e3
            ));
        }
    }
    pin_thread(None);
    println!("{{{}}}", out.join(","));
}

/// Seconds since the first call (wall clock).
fn wall_secs() -> f64 {
    static T0: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    T0.get_or_init(Instant::now).elapsed().as_secs_f64()
}
