//! Timing shared by the benchmarks' ratio tables: seconds per call (wall-clock and this thread's
//! on-CPU time), medians, and the interleaved comparison of a hand-written and a generated
//! gradient that the tables report.

#![allow(dead_code)] // each bench uses the part it needs

use std::time::Instant;

/// A boxed benchmark body.
pub type Run = Box<dyn FnMut()>;

/// Boxes a call whose result (value and gradient) is passed to `black_box` (declare this module
/// first, with `#[macro_use]`, so the modules after it see the macro).
macro_rules! run {
    ($call:expr) => {
        Box::new(move || {
            let r = $call;
            ::std::hint::black_box(&r);
        }) as $crate::timing::Run
    };
}

/// Seconds per call of `reps` calls.
pub fn time(f: &mut dyn FnMut(), reps: usize) -> f64 {
    time_both(f, reps).0
}

/// Wall-clock and on-CPU seconds per call of `reps` calls. On-CPU time (this thread's
/// `CLOCK_THREAD_CPUTIME_ID`) still counts every stall, but not the time other processes hold
/// the core: on a loaded machine its ratio moves far less than the wall-clock one.
pub fn time_both(f: &mut dyn FnMut(), reps: usize) -> (f64, f64) {
    let (start, cpu) = (Instant::now(), thread_cpu_seconds());
    for _ in 0..reps {
        f();
    }
    (start.elapsed().as_secs_f64() / reps as f64, (thread_cpu_seconds() - cpu) / reps as f64)
}

#[repr(C)]
struct Timespec {
    sec: i64,
    nsec: i64,
}

extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}

/// This thread's CPU time (Linux `CLOCK_THREAD_CPUTIME_ID`; std links the C library already).
fn thread_cpu_seconds() -> f64 {
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec (two 64-bit fields on 64-bit Linux).
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.sec as f64 + ts.nsec as f64 * 1e-9
}

pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

pub fn format_time(s: f64) -> String {
    if s < 1e-6 {
        format!("{:.1} ns", s * 1e9)
    } else if s < 1e-3 {
        format!("{:.2} µs", s * 1e6)
    } else {
        format!("{:.3} ms", s * 1e3)
    }
}

/// Rounds per interleaved comparison (odd, so the median is one round's ratio).
pub const ROUNDS: usize = 31;

/// One row of a ratio table: medians over the rounds.
pub struct Comparison {
    pub hand: f64,
    pub generated: f64,
    /// Median of the per-round wall-clock ratios generated / hand.
    pub ratio: f64,
    /// Each side's fastest round, divided: what each runs at when the machine lets it (a second
    /// view on a loaded machine, where medians wander).
    pub best_ratio: f64,
    /// Median of the per-round on-CPU ratios.
    pub cpu_ratio: f64,
    /// Each side's fastest round (seconds per call): the figure to set beside a peer measured as
    /// best of several repeats (`benches/peers/batched_peers.py`).
    pub hand_best: f64,
    pub generated_best: f64,
}

/// Hand-written and generated in alternating rounds of about 10 ms each (which goes first flips
/// every round), so load from other processes cancels out of the per-round ratios.
pub fn interleaved(hand: &mut dyn FnMut(), generated: &mut dyn FnMut()) -> Comparison {
    // Calibrate the round length on the hand-written version.
    hand();
    generated();
    let reps = ((0.01 / time(hand, 3)) as usize).max(1);
    let (mut th, mut tg, mut ratio, mut cpu_ratio) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (h, g) = if round % 2 == 0 {
            let h = time_both(hand, reps);
            (h, time_both(generated, reps))
        } else {
            let g = time_both(generated, reps);
            (time_both(hand, reps), g)
        };
        th.push(h.0);
        tg.push(g.0);
        ratio.push(g.0 / h.0);
        cpu_ratio.push(g.1 / h.1);
    }
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    Comparison {
        best_ratio: best(&tg) / best(&th),
        hand_best: best(&th),
        generated_best: best(&tg),
        hand: median(&mut th),
        generated: median(&mut tg),
        ratio: median(&mut ratio),
        cpu_ratio: median(&mut cpu_ratio),
    }
}
