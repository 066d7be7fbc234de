//! Peer figure for `benches/batched.rs` (issue 17) on candle: the 64-32-10 sigmoid network,
//! squared-error cost summed over a batch, gradient with respect to all weights and biases by
//! candle's reverse mode (`Tensor::backward`), one CPU thread, f64 and f32, batch 256 and 1.
//!
//! ```text
//! cd benches/peers/candle && cargo run --release
//! ```
//!
//! Standalone (its own `[workspace]`, excluded from the backprop workspace): not built by CI.
//! Prints microseconds per gradient, best of 15 repeats of 200 calls after warm-up, the same
//! protocol as `benches/peers/batched_peers.py`. candle-core has no sigmoid (candle-nn's is a
//! custom op), so the sigmoid is written `1 / (1 + exp(-x))` from candle-core's own ops.

use std::time::Instant;

use candle_core::{DType, Device, Result, Tensor, Var};

const IN: usize = 64;
const HID: usize = 32;
const OUT: usize = 10;

/// Deterministic uniform numbers in [0, 1) (xorshift; the figures do not depend on the values).
struct Rng(u64);
impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn tensor(&mut self, shape: &[usize], scale: f64, offset: f64, dt: DType) -> Result<Tensor> {
        let n = shape.iter().product();
        let v: Vec<f64> = (0..n).map(|_| scale * (self.uniform() + offset)).collect();
        Tensor::from_vec(v, shape, &Device::Cpu)?.to_dtype(dt)
    }
}

fn sigmoid(x: &Tensor) -> Result<Tensor> {
    (x.neg()?.exp()? + 1.0)?.recip()
}

fn cost(p: &[Var; 4], xs: &Tensor, ys: &Tensor) -> Result<Tensor> {
    let [w1, b1, w2, b2] = p;
    let h = sigmoid(&xs.matmul(&w1.as_tensor().t()?)?.broadcast_add(b1.as_tensor())?)?;
    let o = sigmoid(&h.matmul(&w2.as_tensor().t()?)?.broadcast_add(b2.as_tensor())?)?;
    (o - ys)?.sqr()?.sum_all()
}

/// Cost and the four gradients, as the other peers return them.
fn grad(p: &[Var; 4], xs: &Tensor, ys: &Tensor) -> Result<(Tensor, Vec<Tensor>)> {
    let c = cost(p, xs, ys)?;
    let store = c.backward()?;
    let g = p.iter().map(|v| store.get(v.as_tensor()).expect("gradient").clone()).collect();
    Ok((c, g))
}

fn setup(batch: usize, dt: DType) -> Result<([Var; 4], Tensor, Tensor)> {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let p = [
        Var::from_tensor(&r.tensor(&[HID, IN], 0.6, -0.5, dt)?)?,
        Var::from_tensor(&r.tensor(&[HID], 0.6, -0.5, dt)?)?,
        Var::from_tensor(&r.tensor(&[OUT, HID], 0.6, -0.5, dt)?)?,
        Var::from_tensor(&r.tensor(&[OUT], 0.6, -0.5, dt)?)?,
    ];
    let xs = r.tensor(&[batch, IN], 1.0, 0.0, dt)?;
    let ys: Vec<f64> = (0..batch * OUT).map(|i| f64::from(u8::from(i % OUT == (i / OUT) % OUT))).collect();
    let ys = Tensor::from_vec(ys, (batch, OUT), &Device::Cpu)?.to_dtype(dt)?;
    Ok((p, xs, ys))
}

/// One gradient entry against a central finite difference (f64), so the timed code is right.
fn check() -> Result<()> {
    let (p, xs, ys) = setup(8, DType::F64)?;
    let (_, g) = grad(&p, &xs, &ys)?;
    let analytic = g[0].flatten_all()?.to_vec1::<f64>()?[5];
    let w1 = p[0].as_tensor().flatten_all()?.to_vec1::<f64>()?;
    let at = |d: f64| -> Result<f64> {
        let mut w = w1.clone();
        w[5] += d;
        let q = [
            Var::from_tensor(&Tensor::from_vec(w, (HID, IN), &Device::Cpu)?)?,
            p[1].clone(),
            p[2].clone(),
            p[3].clone(),
        ];
        cost(&q, &xs, &ys)?.to_scalar::<f64>()
    };
    let h = 1e-6;
    let fd = (at(h)? - at(-h)?) / (2.0 * h);
    assert!((analytic - fd).abs() <= 1e-6 * (1.0 + fd.abs()), "gradient {analytic} vs finite difference {fd}");
    Ok(())
}

fn best_us(batch: usize, dt: DType) -> Result<f64> {
    let (p, xs, ys) = setup(batch, dt)?;
    let (reps, repeats) = (200, 15);
    grad(&p, &xs, &ys)?;
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let t = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(grad(&p, &xs, &ys)?);
        }
        best = best.min(t.elapsed().as_secs_f64() / reps as f64);
    }
    Ok(best * 1e6)
}

fn main() -> Result<()> {
    // One thread, as every other column: candle's CPU matmul reads these before its first call.
    std::env::set_var("RAYON_NUM_THREADS", "1");
    std::env::set_var("CANDLE_NUM_THREADS", "1");
    check()?;
    for batch in [256, 1] {
        let f64_us = best_us(batch, DType::F64)?;
        let f32_us = best_us(batch, DType::F32)?;
        println!("batch {batch}:\n  candle: f64 {f64_us:.1} µs, f32 {f32_us:.1} µs");
    }
    Ok(())
}
