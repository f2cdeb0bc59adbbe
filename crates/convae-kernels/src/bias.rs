//! Bias gradient: `db[ch] += Σ_n Σ_{q<p} dy[(n*c + ch)*p + q]`, for conv and
//! conv-transpose (`p = out_h*out_w`) and dense (`p = 1`).
//!
//! # Summation order (both twins)
//! For each channel: `total = 0; for n { total = total + row_sum(row(n, ch)) }`,
//! then `db[ch] = db[ch] + total`. `row_sum` keeps 16 lane sums `l[0..16]`
//! (four f32x4): `l[i] += r[16t + i]` over whole chunks of 16, then
//! `l[i] += r[..]` for `i < 4` over whole chunks of 4, then
//! `u[i] = (l[i] + l[4+i]) + (l[8+i] + l[12+i])`, `s = (u0 + u1) + (u2 + u3)`,
//! then `s = s + r[q]` for the last `p % 4` elements in order.

// `x = x + y` spells out the operation order the twins share; indexed loops
// mirror the SIMD lanes.
#![allow(clippy::assign_op_pattern)]

/// `db[ch] += Σ_n Σ_{q<p} dy[(n*c + ch)*p + q]`.
///
/// # Shapes
/// dy `[n, c, p]` (p = spatial size, 1 for dense), db `[c]`.
pub fn bias_backward(n: usize, c: usize, p: usize, dy: &[f32], db: &mut [f32]) {
    assert!(dy.len() >= n * c * p && db.len() >= c);
    #[cfg(not(target_arch = "wasm32"))]
    {
        // Channel ranges across threads (each channel summed alone: the same
        // bits for any thread count); a part's db entries are its own.
        use crate::threads::{split_planes, SharedMut};
        let dbp = SharedMut(db.as_mut_ptr());
        split_planes(c, n * p, &|lo, hi| {
            // SAFETY: db[lo..hi] is this part's alone; dy rows of channel ch
            // are read through the offset view below.
            let dbs = unsafe { core::slice::from_raw_parts_mut(dbp.ptr().add(lo), hi - lo) };
            bias_backward_channels(n, c, p, lo, dy, dbs)
        });
    }
    #[cfg(target_arch = "wasm32")]
    bias_backward_channels(n, c, p, 0, dy, &mut db[..c])
}

/// `bias_backward` for channels `c0 .. c0 + db.len()`.
#[inline(always)]
fn bias_backward_channels(n: usize, c: usize, p: usize, c0: usize, dy: &[f32], db: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if crate::isa::use_simd() {
        return bias_backward_with(n, c, p, c0, dy, db, simd::row_sum);
    }
    bias_backward_with(n, c, p, c0, dy, db, row_sum_scalar)
}

#[inline(always)]
fn bias_backward_with(
    n: usize,
    c: usize,
    p: usize,
    c0: usize,
    dy: &[f32],
    db: &mut [f32],
    row_sum: fn(&[f32]) -> f32,
) {
    for (i, d) in db.iter_mut().enumerate() {
        let ch = c0 + i;
        let mut total = 0.0f32;
        for img in 0..n {
            let o = (img * c + ch) * p;
            total = total + row_sum(&dy[o..o + p]);
        }
        *d = *d + total;
    }
}

/// Scalar twin of `simd::row_sum` (same lanes, same order).
fn row_sum_scalar(r: &[f32]) -> f32 {
    let mut l = [0.0f32; 16];
    let mut chunks = r.chunks_exact(16);
    for ch in &mut chunks {
        for i in 0..16 {
            l[i] = l[i] + ch[i];
        }
    }
    let mut quads = chunks.remainder().chunks_exact(4);
    for q in &mut quads {
        for i in 0..4 {
            l[i] = l[i] + q[i];
        }
    }
    let u: [f32; 4] = core::array::from_fn(|i| (l[i] + l[4 + i]) + (l[8 + i] + l[12 + i]));
    let mut s = (u[0] + u[1]) + (u[2] + u[3]);
    for &v in quads.remainder() {
        s = s + v;
    }
    s
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    pub(super) fn row_sum(r: &[f32]) -> f32 {
        let mut v = [f32x4_splat(0.0); 4];
        let mut chunks = r.chunks_exact(16);
        for ch in &mut chunks {
            for (k, acc) in v.iter_mut().enumerate() {
                // SAFETY: ch has 16 elements; lanes 4k..4k+4 are in bounds.
                *acc = f32x4_add(*acc, unsafe {
                    v128_load(ch.as_ptr().add(4 * k) as *const v128)
                });
            }
        }
        let mut quads = chunks.remainder().chunks_exact(4);
        for q in &mut quads {
            // SAFETY: q has 4 elements.
            v[0] = f32x4_add(v[0], unsafe { v128_load(q.as_ptr() as *const v128) });
        }
        let u = f32x4_add(f32x4_add(v[0], v[1]), f32x4_add(v[2], v[3]));
        let mut s = (f32x4_extract_lane::<0>(u) + f32x4_extract_lane::<1>(u))
            + (f32x4_extract_lane::<2>(u) + f32x4_extract_lane::<3>(u));
        for &x in quads.remainder() {
            s = s + x;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::tests::{close, rnd};

    #[test]
    fn bias_backward_vs_naive() {
        let mut seed = 4u64;
        for &n in &[1usize, 3, 64] {
            for &c in &[1usize, 3, 20] {
                for &p in &[1usize, 2, 3, 4, 5, 15, 16, 17, 20, 33, 64, 576] {
                    let dy = rnd(n * c * p, &mut seed);
                    let db0 = rnd(c, &mut seed);
                    let mut want: Vec<f64> = db0.iter().map(|v| *v as f64).collect();
                    let mut mag: Vec<f64> = want.iter().map(|v| v.abs()).collect();
                    for i in 0..n * c * p {
                        want[(i / p) % c] += dy[i] as f64;
                        mag[(i / p) % c] += (dy[i] as f64).abs();
                    }
                    let mut db = db0.clone();
                    bias_backward(n, c, p, &dy, &mut db);
                    close(
                        &db,
                        &want,
                        &mag,
                        &format!("bias_backward n={n} c={c} p={p}"),
                    );
                }
            }
        }
    }
}
