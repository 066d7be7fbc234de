//! The runtime's layers through the facade, composed the way `#[backprop]` callers will compose
//! them (issue 8): a forward pass of layer calls, and a backward sweep that calls each layer's
//! pullback in reverse with `__private::sink` on its adjoints, checked against finite
//! differences. Also pins the paths generated code relies on: every function is exported with
//! its `_pullback` at the same paths.

use backprop::__private::sink;
use backprop::gradcheck::check_gradient;
use backprop::layers;
use backprop::prelude::*;

type Net = (Dense<4, 6>, Dense<6, 3>);

const WEIGHT_DECAY: f64 = 0.01;

/// A two-layer classifier with a penalty on the hidden activations, written with layer calls.
fn loss(net: &Net, x: &[f64; 4], label: usize) -> f64 {
    let h = dense(&net.0, x, Activation::Tanh);
    let logits = dense(&net.1, &h, Activation::Identity);
    softmax_cross_entropy(&logits, label) + WEIGHT_DECAY * layers::dot(&h, &h)
}

/// `loss`'s gradient written as the generated code will be: forward values kept, then each
/// call's pullback in reverse order, adjoints lent through `sink`.
fn loss_grad(net: &Net, x: &[f64; 4], label: usize) -> (f64, Net) {
    let h = dense(&net.0, x, Activation::Tanh);
    let logits = dense(&net.1, &h, Activation::Identity);
    let ce = softmax_cross_entropy(&logits, label);
    let penalty = layers::dot(&h, &h);
    let loss = ce + WEIGHT_DECAY * penalty;

    let mut grad: Net = (Dense::zeros(), Dense::zeros());
    // The accumulating form binds the caller's buffer by reference: `sink` sees through it.
    let mut d_l1 = &mut grad.0;
    let mut d_h = [0.0; 6];
    let mut d_logits = [0.0; 3];
    // `dot(&h, &h)` passes one variable twice: two sinks cannot both borrow `d_h`, so the
    // second adjoint goes to a temporary that is added afterwards.
    let mut d_h_again = [0.0; 6];
    let ((), ()) = layers::dot_pullback(&h, &h, penalty, WEIGHT_DECAY, sink(&mut d_h), sink(&mut d_h_again));
    for (d, again) in d_h.iter_mut().zip(d_h_again) {
        *d += again;
    }
    let ((), ()) = softmax_cross_entropy_pullback(&logits, label, ce, 1.0, sink(&mut d_logits));
    let ((), (), ()) =
        dense_pullback(&net.1, &h, Activation::Identity, &logits, &d_logits, sink(&mut grad.1), sink(&mut d_h));
    // `x` is data: no sink, no work.
    let ((), (), ()) = dense_pullback(&net.0, x, Activation::Tanh, &h, &d_h, sink(&mut d_l1), None);
    (loss, grad)
}

fn point(seed: u64) -> (Net, [f64; 4]) {
    // A small LCG is enough to spread the weights; the values only need to be varied.
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    let mut net: Net = (Dense::zeros(), Dense::zeros());
    let mut values = Vec::new();
    net.visit(&mut |_| values.push(next()));
    backprop::params::copy_from_slice(&mut net, &values).unwrap();
    (net, [next(), next(), next(), next()])
}

#[test]
fn composed_layers_have_the_finite_difference_gradient() {
    for seed in 0..5 {
        let (mut net, x) = point(seed);
        for label in 0..3 {
            let check = check_gradient(|n: &Net| loss_grad(n, &x, label), &mut net, 1e-5).unwrap();
            assert_eq!(check.entries.len(), 4 * 6 + 6 + 6 * 3 + 3);
            for e in &check.entries {
                assert!(e.abs_error <= 1e-9 || e.rel_error <= 1e-6, "seed {seed} label {label}: {e:?}\n{check}");
            }
            assert_eq!(loss_grad(&net, &x, label).0, loss(&net, &x, label));
        }
    }
}

#[test]
fn names_of_a_nested_layer_follow_the_field_path() {
    let (net, _) = point(0);
    assert_eq!(net.describe(0, "net"), "net.0.w[0][0]");
    assert_eq!(net.describe(4 * 6 + 5, "net"), "net.0.b[5]");
    assert_eq!(net.describe(4 * 6 + 6 + 2, ""), "param.1.w[0][2]");
}

/// Every function and its pullback at each path a user may call it by.
#[test]
fn every_layer_is_exported_with_its_pullback() {
    let x = [0.5, -1.0, 2.0];
    let t = [0.0, 1.0, 1.0];
    let layer = backprop::Dense::<3, 2> { w: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], b: [0.0, 0.0] };
    assert_eq!(backprop::layers::dense(&layer, &x, backprop::Activation::Identity), [0.5, -1.0]);
    assert_eq!(backprop::runtime::layers::dot(&x, &t), 1.0);
    assert_eq!(backprop::layers::mse(&x, &t), (0.25 + 4.0 + 1.0) / 3.0);
    assert_eq!(logsumexp(&[0.0, 0.0]), 2.0_f64.ln());
    assert_eq!(softmax_cross_entropy(&[0.0, 0.0], 1), 2.0_f64.ln());

    let mut d = [0.0; 3];
    backprop::layers::dot_pullback(&x, &t, 1.0, 1.0, sink(&mut d), None);
    assert_eq!(d, t);
    let mut d = [0.0; 3];
    backprop::layers::mse_pullback(&x, &t, 0.0, 1.5, None, sink(&mut d));
    assert_eq!(d, [-0.5, 2.0, -1.0]);
    let mut d = [0.0; 2];
    backprop::layers::logsumexp_pullback(&[0.0, 0.0], 2.0_f64.ln(), 2.0, sink(&mut d));
    assert_eq!(d, [1.0, 1.0]);
    let mut d = [0.0; 2];
    backprop::layers::softmax_cross_entropy_pullback(&[0.0, 0.0], 0, 2.0_f64.ln(), 1.0, sink(&mut d));
    assert_eq!(d, [-0.5, 0.5]);
    let mut d_layer = Dense::zeros();
    backprop::layers::dense_pullback(&layer, &x, Activation::Relu, &[0.5, 0.0], &[1.0, 1.0], sink(&mut d_layer), None);
    assert_eq!(d_layer.w, [[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]]);
    assert_eq!(d_layer.b, [1.0, 0.0]);

    // The prelude's layers, with their pullbacks, as plain function items.
    let _ = (
        dense::<3, 2, f64> as fn(&_, &_, _) -> _,
        dense_pullback::<3, 2, f64> as fn(&_, &_, _, &_, &_, _, _) -> _,
        logsumexp::<f64, 2> as fn(&_) -> _,
        logsumexp_pullback::<f64, 2> as fn(&_, _, _, _) -> _,
        softmax_cross_entropy::<f64, 2> as fn(&_, _) -> _,
        softmax_cross_entropy_pullback::<f64, 2> as fn(&_, _, _, _, _) -> _,
    );

    // And each `_vjp`: the value, and the pullback at it.
    let (y, back) = backprop::layers::dense_vjp(&layer, &x, Activation::Relu);
    assert_eq!(y, [0.5, 0.0]);
    let mut d_layer = Dense::zeros();
    back(&[1.0, 1.0], sink(&mut d_layer), None);
    assert_eq!(d_layer.b, [1.0, 0.0]);
    let (_, back) = dense_vjp(&layer, &x, Activation::Identity);
    let _ = back(&[1.0, 1.0], None, None);
    let (r, back) = backprop::runtime::layers::dot_vjp(&x, &t);
    assert_eq!(r, 1.0);
    let mut d = [0.0; 3];
    back(1.0, sink(&mut d), None);
    assert_eq!(d, t);
    let (_, back) = backprop::layers::mse_vjp(&x, &t);
    let mut d = [0.0; 3];
    back(1.5, None, sink(&mut d));
    assert_eq!(d, [-0.5, 2.0, -1.0]);
    let (r, back) = logsumexp_vjp(&[0.0, 0.0]);
    assert_eq!(r, 2.0_f64.ln());
    let mut d = [0.0; 2];
    back(2.0, sink(&mut d));
    assert_eq!(d, [1.0, 1.0]);
    let (_, back) = softmax_cross_entropy_vjp(&[0.0, 0.0], 0);
    let mut d = [0.0; 2];
    back(1.0, sink(&mut d));
    assert_eq!(d, [-0.5, 0.5]);
}
