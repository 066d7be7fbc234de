//! A pullback or vjp called with `None` for a slice argument's sink (data the caller does not
//! differentiate) allocates no zero buffer for it when the sweep only writes that sink under its
//! flag (`emit/pullback.rs`): a caller's backward loop calls it once per iteration.

use backprop::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[backprop]
fn weighted(x: &[f64], w: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += w[i] * x[i] * x[i];
    }
    s
}

fn allocations_of(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    f();
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

#[test]
fn a_none_sink_costs_no_allocation_and_the_given_one_is_right() {
    let (x, w) = (vec![1.0, -2.0, 0.5], vec![3.0, 0.25, -1.0]);
    let value = weighted(&x, &w);
    let mut d_x = vec![0.0; 3];
    let n = allocations_of(|| {
        weighted_pullback(&x, &w, value, 2.0, Some(&mut d_x), None);
    });
    assert_eq!(n, 0, "the pullback allocated for the `None` sink");
    // d/dx_i = 2 w_i x_i, times the seed 2.
    assert_eq!(d_x, vec![12.0, -2.0, -2.0]);

    let mut d_w = vec![0.0; 3];
    let (v, back) = weighted_vjp(&x, &w);
    assert_eq!(v, value);
    let n = allocations_of(|| {
        back(1.0, None, Some(&mut d_w));
    });
    assert_eq!(n, 0, "the vjp's closure allocated for the `None` sink");
    assert_eq!(d_w, vec![1.0, 4.0, 0.25]);
}
