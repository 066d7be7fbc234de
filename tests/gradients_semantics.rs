//! The language the macro accepts, in combination: fan-out, shadowing, reassignment, compound
//! assignment, `mut` arguments, blocks, `if`/`else` (the derivative follows the branch taken), name
//! collisions, unused arguments, degenerate functions, `wrt`, non-float arguments, dead code, the
//! exact value returned by `_grad`, the traits of the generated struct, and the sigmoid chain.

// The functions below are inputs to the macro, written the way the tests need them: `a = a * y`
// (plain reassignment, next to the compound forms tested separately), `((a))`, `x - x`, a `let`
// returned as is, `3 as f64`, twelve arguments.
#![allow(
    clippy::assign_op_pattern,
    clippy::double_parens,
    clippy::eq_op,
    clippy::let_and_return,
    clippy::unnecessary_cast,
    clippy::too_many_arguments
)]

#[macro_use]
mod common;

use backprop::prelude::*;
use num_dual::{Dual64, DualNum};

fn d_sigmoid(x: Dual64) -> Dual64 {
    ((-x).exp() + 1.0).recip()
}

// ---------------------------------------------------------------------------------------------
// Fan-out

#[backprop]
fn fan_out(x: f64, y: f64) -> f64 {
    let a = x * y;
    let b = a + x;
    a * b + x * a - b / x + a.sin() * a + a.exp() * b * y
}

#[backprop]
fn fan_out_power(x: f64) -> f64 {
    x * x * x * x * x
}

#[backprop]
fn fan_out_sum(x: f64) -> f64 {
    x + x + x + x + x + x + x + x + x + x
}

#[backprop]
fn fan_out_shared_subexpression(x: f64, y: f64) -> f64 {
    (x * y).sin() + (x * y).sin() * (x * y) + (x * y).exp()
}

#[test]
fn fan_out_sums_every_use() {
    check!(fan_out, fan_out_grad, (x, y), [[0.7, 1.3], [-1.2, 0.4], [2.0, -0.5]], |x, y| {
        let a = x * y;
        let b = a + x;
        a * b + x * a - b / x + a.sin() * a + a.exp() * b * y
    });
    check!(fan_out_power, fan_out_power_grad, (x), [[0.7], [-1.2], [2.0]], |x| x.powi(5));
    check!(fan_out_sum, fan_out_sum_grad, (x), [[0.7], [-1.2], [2.0]], |x| x * 10.0);
    check!(
        fan_out_shared_subexpression,
        fan_out_shared_subexpression_grad,
        (x, y),
        [[0.7, 1.3], [-1.2, 0.4], [2.0, -0.5]],
        |x, y| (x * y).sin() + (x * y).sin() * (x * y) + (x * y).exp()
    );
    assert_eq!(fan_out_power_grad(2.0), (32.0, FanOutPowerGrad { x: 80.0 }));
    assert_eq!(fan_out_sum_grad(3.0), (30.0, FanOutSumGrad { x: 10.0 }));
}

// ---------------------------------------------------------------------------------------------
// Shadowing, reassignment, compound assignment, `mut` arguments, blocks

#[backprop]
fn shadowing(x: f64, y: f64) -> f64 {
    let x = x * 2.0;
    let x = x.sin() + x;
    let y = y * x;
    x * y
}

#[backprop]
fn shadowing_in_block(x: f64) -> f64 {
    let a = {
        let x = x * 3.0;
        x + 1.0
    };
    // `x` is the argument again here.
    a * x
}

#[backprop]
fn reassignment(x: f64, y: f64) -> f64 {
    let mut a = x;
    a = a * y;
    a = a.exp() + x;
    a
}

#[backprop]
fn compound_assignment(x: f64, y: f64) -> f64 {
    let mut a = x;
    a += y;
    a -= x * 0.5;
    a *= y;
    a /= x;
    a += a;
    a
}

#[backprop]
fn mut_arguments(mut x: f64, mut y: f64) -> f64 {
    x *= y;
    x += 1.0;
    y = y.sin();
    x * x + y
}

#[backprop]
fn block_expressions(x: f64, y: f64) -> f64 {
    let b = {
        let t = x * y;
        t.exp()
    };
    let c = {
        let u = { x - y };
        u * u
    };
    b + c + { x * 3.0 }
}

#[backprop]
fn reassigned_inside_block(x: f64) -> f64 {
    let mut a = x;
    {
        a *= 3.0;
        let a = a + 100.0; // shadows only inside the block
        let _inner = a;
    }
    a * x
}

#[allow(unused_parens)]
#[backprop]
fn typed_lets_and_parens(x: f64, y: f64) -> f64 {
    let a: f64 = (x * (y + 1.0));
    let b: f64 = 2.0;
    (a) * b + (x)
}

#[test]
fn bindings() {
    check!(shadowing, shadowing_grad, (x, y), [[0.7, 1.3], [-1.2, 0.4], [2.0, -0.5]], |x, y| {
        let x = x * 2.0;
        let x = x.sin() + x;
        let y = y * x;
        x * y
    });
    check!(shadowing_in_block, shadowing_in_block_grad, (x), [[0.7], [-1.2], [2.0]], |x| (x * 3.0 + 1.0) * x);
    assert_eq!(shadowing_in_block_grad(2.0), (14.0, ShadowingInBlockGrad { x: 13.0 }));
    check!(reassignment, reassignment_grad, (x, y), [[0.7, 1.3], [-1.2, 0.4], [2.0, -0.5]], |x, y| (x * y).exp() + x);
    check!(compound_assignment, compound_assignment_grad, (x, y), [[0.7, 1.3], [-1.2, 0.4], [2.0, -0.5]], |x, y| {
        let a = (x + y - x * 0.5) * y / x;
        a + a
    });
    check!(mut_arguments, mut_arguments_grad, (x, y), [[0.7, 1.3], [-1.2, 0.4], [2.0, -0.5]], |x, y| {
        let x = x * y + 1.0;
        x * x + y.sin()
    });
    // The gradient is with respect to the arguments' values on entry.
    assert_eq!(mut_arguments_grad(2.0, 0.0).1.x, 0.0);
    assert_eq!(mut_arguments_grad(1.0, 3.0).1.x, 2.0 * 4.0 * 3.0);
    check!(block_expressions, block_expressions_grad, (x, y), [[0.7, 1.3], [-1.2, 0.4], [2.0, -0.5]], |x, y| (x * y)
        .exp()
        + (x - y) * (x - y)
        + x * 3.0);
    check!(reassigned_inside_block, reassigned_inside_block_grad, (x), [[0.7], [-1.2], [2.0]], |x| x * 3.0 * x);
    assert_eq!(reassigned_inside_block_grad(2.0), (12.0, ReassignedInsideBlockGrad { x: 12.0 }));
    check!(
        typed_lets_and_parens,
        typed_lets_and_parens_grad,
        (x, y),
        [[0.7, 1.3], [-1.2, 0.4], [2.0, -0.5]],
        |x, y| x * (y + 1.0) * 2.0 + x
    );
}

// ---------------------------------------------------------------------------------------------
// `if` / `else if` / `else`

#[backprop]
fn if_expression(x: f64, y: f64) -> f64 {
    if x > y {
        x * x
    } else {
        y.sin() * x
    }
}

#[backprop]
fn if_else_if(x: f64) -> f64 {
    if x < -1.0 {
        -x * 3.0
    } else if x < 1.0 {
        x * x
    } else {
        x.ln() + 1.0
    }
}

#[backprop]
fn if_statement(x: f64, y: f64) -> f64 {
    let mut a = x;
    if x * y > 1.0 {
        a = a * y;
    } else {
        a = a + y.exp();
    }
    a * 2.0
}

#[backprop]
fn if_without_else(x: f64, y: f64) -> f64 {
    let mut a = x * y;
    if x >= 0.0 {
        a = a.exp();
    }
    a + x
}

#[backprop]
fn if_bool_argument(x: f64, y: f64, flag: bool) -> f64 {
    if flag {
        x * y
    } else {
        x + y.powi(2)
    }
}

#[backprop]
fn if_compound_condition(x: f64, y: f64, flag: bool) -> f64 {
    let s = if flag && x > 0.0 || !flag && y <= 0.0 { x * y } else { x - y };
    s * x
}

#[backprop]
fn if_in_arithmetic(x: f64, y: f64, flag: bool) -> f64 {
    x * if flag { 2.0 } else { y } + 1.0
}

#[backprop]
fn if_comparisons(x: f64, y: f64) -> f64 {
    let mut a = 0.0;
    if x == y {
        a += 1.0;
    }
    if x != y {
        a += x;
    }
    if x <= y {
        a += y * y;
    }
    if x >= y {
        a += x * y;
    }
    a
}

#[backprop]
fn nested_ifs(x: f64, y: f64) -> f64 {
    if x > 0.0 {
        if y > 0.0 {
            x * y
        } else {
            x - y * y
        }
    } else if y > x {
        let t = y * y;
        if t > 1.0 {
            t * x
        } else {
            t + x
        }
    } else {
        x.exp()
    }
}

#[backprop]
fn assigned_in_one_branch(x: f64, y: f64) -> f64 {
    let mut a = x;
    let mut b = y;
    if x > y {
        a = a * y;
    } else {
        b = b * x + 1.0;
    }
    a * b
}

#[backprop]
fn branch_locals(x: f64, y: f64) -> f64 {
    let mut out = 0.0;
    if x > 0.0 {
        let only_here = x.sin() * y;
        out = only_here * only_here;
    } else {
        let elsewhere = y.exp();
        out += elsewhere * x;
    }
    out + y
}

fn d_if_compound(x: Dual64, y: Dual64, flag: bool) -> Dual64 {
    let s = if flag && x.re > 0.0 || !flag && y.re <= 0.0 { x * y } else { x - y };
    s * x
}

fn d_nested(x: Dual64, y: Dual64) -> Dual64 {
    if x.re > 0.0 {
        if y.re > 0.0 {
            x * y
        } else {
            x - y * y
        }
    } else if y.re > x.re {
        let t = y * y;
        if t.re > 1.0 {
            t * x
        } else {
            t + x
        }
    } else {
        x.exp()
    }
}

#[test]
fn if_follows_the_branch_taken() {
    // Points on both sides of `x > y`.
    check!(
        if_expression,
        if_expression_grad,
        (x, y),
        [[2.0, 1.0], [3.0, -4.0], [1.0, 2.0], [-3.0, 0.5]],
        |x, y| if x.re > y.re { x * x } else { y.sin() * x }
    );
    assert_eq!(if_expression_grad(2.0, 1.0).1, IfExpressionGrad { x: 4.0, y: 0.0 });
    assert_eq!(if_expression_grad(1.0, 0.0).1.y, 0.0);
    let (_, g) = if_expression_grad(1.0, 2.0);
    assert_eq!(g, IfExpressionGrad { x: 2.0_f64.sin(), y: 2.0_f64.cos() });

    check!(if_else_if, if_else_if_grad, (x), [[-3.0], [-1.5], [0.5], [-0.5], [2.0], [5.0]], |x| if x.re < -1.0 {
        -x * 3.0
    } else if x.re < 1.0 {
        x * x
    } else {
        x.ln() + 1.0
    });
    assert_eq!(if_else_if_grad(-2.0).1.x, -3.0);
    assert_eq!(if_else_if_grad(0.5).1.x, 1.0);
    assert_eq!(if_else_if_grad(2.0).1.x, 0.5);

    check!(
        if_statement,
        if_statement_grad,
        (x, y),
        [[2.0, 1.0], [3.0, 4.0], [0.5, 1.0], [-3.0, 0.5]],
        |x, y| if (x * y).re > 1.0 { x * y * 2.0 } else { (x + y.exp()) * 2.0 }
    );
    check!(
        if_without_else,
        if_without_else_grad,
        (x, y),
        [[0.5, 1.0], [1.5, -0.3], [-0.5, 1.0], [-2.0, -0.3]],
        |x, y| if x.re >= 0.0 { (x * y).exp() + x } else { x * y + x }
    );
    assert_eq!(if_without_else_grad(-2.0, 3.0).1, IfWithoutElseGrad { x: 4.0, y: -2.0 });
}

#[test]
fn if_on_bool_arguments_and_compound_conditions() {
    for flag in [true, false] {
        check!(
            if_bool_argument,
            if_bool_argument_grad,
            (x, y; flag),
            [[2.0, 1.0], [3.0, -4.0], [-0.5, 0.25]],
            |x, y| if flag { x * y } else { x + y.powi(2) }
        );
        check!(
            if_compound_condition,
            if_compound_condition_grad,
            (x, y; flag),
            [[2.0, 1.0], [3.0, -4.0], [-0.5, 0.25], [-0.5, -2.0]],
            |x, y| d_if_compound(x, y, flag)
        );
        check!(
            if_in_arithmetic,
            if_in_arithmetic_grad,
            (x, y; flag),
            [[2.0, 1.0], [3.0, -4.0], [-0.5, 0.25]],
            |x, y| if flag { x * 2.0 + 1.0 } else { x * y + 1.0 }
        );
    }
    assert_eq!(if_bool_argument_grad(2.0, 3.0, true).1, IfBoolArgumentGrad { x: 3.0, y: 2.0 });
    assert_eq!(if_bool_argument_grad(2.0, 3.0, false).1, IfBoolArgumentGrad { x: 1.0, y: 6.0 });
    assert_eq!(if_in_arithmetic_grad(5.0, 7.0, true).1, IfInArithmeticGrad { x: 2.0, y: 0.0 });
    assert_eq!(if_in_arithmetic_grad(5.0, 7.0, false).1, IfInArithmeticGrad { x: 7.0, y: 5.0 });
}

#[test]
fn if_comparison_operators() {
    // x < y: a = x + y*y; x > y: a = x + x*y; x == y: a = 1 + y*y + x*y.
    assert_eq!(if_comparisons_grad(1.0, 2.0), (5.0, IfComparisonsGrad { x: 1.0, y: 4.0 }));
    assert_eq!(if_comparisons_grad(3.0, 2.0), (9.0, IfComparisonsGrad { x: 3.0, y: 3.0 }));
    assert_eq!(if_comparisons_grad(2.0, 2.0), (9.0, IfComparisonsGrad { x: 2.0, y: 6.0 }));
    check!(
        if_comparisons,
        if_comparisons_grad,
        (x, y),
        [[1.0, 2.0], [3.0, 2.0], [-1.0, -4.0]],
        |x, y| if x.re < y.re { x + y * y } else { x + x * y }
    );
}

#[test]
fn nested_ifs_and_partial_assignment() {
    check!(
        nested_ifs,
        nested_ifs_grad,
        (x, y),
        // (+,+), (+,-), (-, y > x with y² > 1), (-, y > x with y² < 1), (-, y < x)
        [[2.0, 1.5], [2.0, -1.5], [-3.0, 2.0], [-3.0, 0.5], [-1.0, -2.0]],
        |x, y| d_nested(x, y)
    );
    assert_eq!(nested_ifs_grad(-3.0, 0.5).1, NestedIfsGrad { x: 1.0, y: 1.0 });
    assert_eq!(nested_ifs_grad(-3.0, 2.0).1, NestedIfsGrad { x: 4.0, y: -12.0 });

    check!(
        assigned_in_one_branch,
        assigned_in_one_branch_grad,
        (x, y),
        [[2.0, 1.5], [3.0, -1.0], [-3.0, 2.0], [0.5, 4.0]],
        |x, y| if x.re > y.re { x * y * y } else { x * (y * x + 1.0) }
    );
    // then-branch: a = x*y, b = y → x*y²; else: a = x, b = y*x + 1 → x²y + x.
    assert_eq!(assigned_in_one_branch_grad(2.0, 1.5).1, AssignedInOneBranchGrad { x: 2.25, y: 6.0 });
    assert_eq!(assigned_in_one_branch_grad(1.0, 3.0).1, AssignedInOneBranchGrad { x: 7.0, y: 1.0 });

    check!(
        branch_locals,
        branch_locals_grad,
        (x, y),
        [[2.0, 1.5], [0.5, -1.0], [-3.0, 2.0], [-0.5, -4.0]],
        |x, y| if x.re > 0.0 {
            let t = x.sin() * y;
            t * t + y
        } else {
            y.exp() * x + y
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Name collisions

#[backprop]
fn collide_d_x(x: f64, d_x: f64) -> f64 {
    x * d_x + x.sin() * d_x.exp()
}

#[backprop]
fn collide_d_x_2(x: f64, d_x: f64, d_x_2: f64) -> f64 {
    let a = x * d_x;
    let d_a = a * d_x_2;
    d_a + a * x
}

#[backprop]
fn cost(cost: f64, x: f64) -> f64 {
    cost * x + cost.exp()
}

#[backprop]
fn collide_temporaries(x: f64, y: f64) -> f64 {
    let t0 = x * y;
    let t1 = (x + y).sin();
    (t0 + x).sin() * t0 + (x * y * 2.0).exp() * t1 + (t1 * t0).cos()
}

#[backprop]
fn collide_generated_looking(x: f64, d_y: f64, t2: f64) -> f64 {
    let y = x * d_y;
    let d_t0 = y * t2;
    let t3 = d_t0.exp();
    t3 * y + (x * t2).sin()
}

#[backprop]
fn collide_with_function_names(collide_with_function_names: f64, value: f64, grad: f64) -> f64 {
    let collide_with_function_names_grad = collide_with_function_names * value;
    collide_with_function_names_grad * grad + value.exp()
}

#[backprop]
fn collide_shadowed_numbered(a: f64) -> f64 {
    let a_2 = a * 3.0;
    let a = a * a;
    let a = a + a_2;
    a * a_2
}

#[backprop]
fn collide_raw_identifier(r#type: f64, x: f64) -> f64 {
    r#type * x + r#type.sin()
}

#[test]
fn name_collisions() {
    check!(collide_d_x, collide_d_x_grad, (x, d_x), [[0.7, 1.3], [-1.2, 0.4], [2.0, -0.5]], |x, d_x| x * d_x
        + x.sin() * d_x.exp());
    let CollideDXGrad { x, d_x } = collide_d_x_grad(2.0, 3.0).1;
    assert_eq!(x, 3.0 + 2.0_f64.cos() * 3.0_f64.exp());
    assert_eq!(d_x, 2.0 + 2.0_f64.sin() * 3.0_f64.exp());

    check!(
        collide_d_x_2,
        collide_d_x_2_grad,
        (x, d_x, d_x_2),
        [[0.7, 1.3, 2.0], [-1.2, 0.4, -1.0], [2.0, -0.5, 0.25]],
        |x, d_x, d_x_2| x * d_x * d_x_2 + x * d_x * x
    );
    // `check!` cannot bind an argument named like the function, so these two are spelled out.
    for p in [[0.7, 1.3], [-1.2, 0.4], [2.0, -0.5]] {
        common::check_point(
            "cost",
            &["cost", "x"],
            &p,
            &|a| cost(a[0], a[1]),
            &|a| {
                let (value, g) = cost_grad(a[0], a[1]);
                (value, vec![g.cost, g.x])
            },
            &|a| a[0] * a[1] + a[0].exp(),
        );
    }
    let CostGrad { cost: d_cost, x: d_x } = cost_grad(0.0, 2.0).1;
    assert_eq!((d_cost, d_x), (3.0, 0.0));
    check!(collide_temporaries, collide_temporaries_grad, (x, y), [[0.7, 1.3], [-1.2, 0.4], [2.0, -0.5]], |x, y| {
        let t0 = x * y;
        let t1 = (x + y).sin();
        (t0 + x).sin() * t0 + (x * y * 2.0).exp() * t1 + (t1 * t0).cos()
    });
    check!(
        collide_generated_looking,
        collide_generated_looking_grad,
        (x, d_y, t2),
        [[0.7, 1.3, 0.5], [-1.2, 0.4, -0.25], [1.0, -0.5, 0.75]],
        |x, d_y, t2| {
            let y = x * d_y;
            let t3 = (y * t2).exp();
            t3 * y + (x * t2).sin()
        }
    );
    for p in [[0.7, 1.3, 0.5], [-1.2, 0.4, -0.25], [1.0, -0.5, 0.75]] {
        common::check_point(
            "collide_with_function_names",
            &["collide_with_function_names", "value", "grad"],
            &p,
            &|a| collide_with_function_names(a[0], a[1], a[2]),
            &|a| {
                let (value, g) = collide_with_function_names_grad(a[0], a[1], a[2]);
                (value, vec![g.collide_with_function_names, g.value, g.grad])
            },
            &|a| a[0] * a[1] * a[2] + a[1].exp(),
        );
    }
    check!(collide_shadowed_numbered, collide_shadowed_numbered_grad, (a), [[0.7], [-1.2], [2.0]], |a| (a * a
        + a * 3.0)
        * (a * 3.0));
}

#[test]
fn name_collision_raw_identifier() {
    check!(
        collide_raw_identifier,
        collide_raw_identifier_grad,
        (r#type, x),
        [[0.7, 1.3], [-1.2, 0.4], [2.0, -0.5]],
        |t, x| t * x + t.sin()
    );
}

// ---------------------------------------------------------------------------------------------
// Unused arguments, arguments only in conditions, degenerate functions

#[allow(unused_variables)]
#[backprop]
fn unused_argument(x: f64, y: f64) -> f64 {
    x * 2.0
}

#[backprop]
fn condition_only(x: f64, t: f64) -> f64 {
    if t > 0.0 {
        x * 2.0
    } else {
        x * 3.0
    }
}

#[backprop]
fn condition_only_nested(x: f64, lo: f64, hi: f64) -> f64 {
    let mut a = x;
    if x < lo || x * 2.0 > hi {
        a = a.sin();
    }
    if lo * hi > 1.0 {
        a *= 2.0;
    }
    a
}

#[backprop]
fn identity(x: f64) -> f64 {
    x
}

#[allow(unused_variables)]
#[backprop]
fn constant(x: f64) -> f64 {
    3.0
}

#[allow(unused_variables)]
#[backprop]
fn constant_path(x: f64) -> f64 {
    std::f64::consts::E
}

#[backprop]
fn x_minus_x(x: f64) -> f64 {
    x - x
}

#[backprop]
fn times_zero(x: f64, y: f64) -> f64 {
    x * 0.0 + y
}

#[backprop]
fn cancelling(x: f64, y: f64) -> f64 {
    let a = x + y;
    a - x
}

#[test]
fn unused_and_condition_only_arguments_get_exactly_zero() {
    for (x, y) in [(1.5, 2.0), (-3.0, 0.0), (0.0, -7.5)] {
        let (value, g) = unused_argument_grad(x, y);
        assert_eq!(value, unused_argument(x, y));
        assert_eq!(g, UnusedArgumentGrad { x: 2.0, y: 0.0 });
        assert_eq!(g.y.to_bits(), 0.0_f64.to_bits(), "unused argument: +0.0");
    }
    for (x, t, dx) in [(1.5, 1.0, 2.0), (1.5, -1.0, 3.0), (-2.0, 0.0, 3.0), (4.0, 1e-300, 2.0)] {
        let (value, g) = condition_only_grad(x, t);
        assert_eq!(value, condition_only(x, t));
        assert_eq!(g, ConditionOnlyGrad { x: dx, t: 0.0 }, "at x = {x}, t = {t}");
    }
    for (x, lo, hi) in [(0.5, 1.0, 3.0), (0.5, -1.0, 3.0), (2.0, 1.0, 3.0), (0.5, -1.0, 0.5)] {
        let (value, g) = condition_only_nested_grad(x, lo, hi);
        assert_eq!(value.to_bits(), condition_only_nested(x, lo, hi).to_bits());
        assert_eq!((g.lo, g.hi), (0.0, 0.0), "at x = {x}, lo = {lo}, hi = {hi}");
        let taken_sin = x < lo || x * 2.0 > hi;
        let doubled = if lo * hi > 1.0 { 2.0 } else { 1.0 };
        let expected = if taken_sin { x.cos() } else { 1.0 } * doubled;
        assert_eq!(g.x, expected, "at x = {x}, lo = {lo}, hi = {hi}");
    }
}

#[test]
fn degenerate_functions() {
    for x in [0.0, 1.5, -2.0, 1e300] {
        assert_eq!(identity_grad(x), (x, IdentityGrad { x: 1.0 }));
        assert_eq!(constant_grad(x), (3.0, ConstantGrad { x: 0.0 }));
        assert_eq!(constant_path_grad(x), (std::f64::consts::E, ConstantPathGrad { x: 0.0 }));
        assert_eq!(x_minus_x_grad(x), (0.0, XMinusXGrad { x: 0.0 }));
        assert_eq!(times_zero_grad(x, 2.0), (2.0, TimesZeroGrad { x: 0.0, y: 1.0 }));
        let (value, g) = cancelling_grad(x, 0.5);
        assert_eq!(value.to_bits(), cancelling(x, 0.5).to_bits());
        assert_eq!(g, CancellingGrad { x: 0.0, y: 1.0 });
    }
}

// ---------------------------------------------------------------------------------------------
// `wrt`, non-float arguments, dead code

#[backprop(wrt(a, b))]
fn only_some(a: f64, b: f64, c: f64) -> f64 {
    a * b * c + c.exp()
}

#[backprop(wrt(b))]
fn only_one(a: f64, b: f64) -> f64 {
    a.sin() * b
}

#[backprop(wrt(x))]
fn wrt_with_non_floats(x: f64, y: f64, n: i32, flag: bool) -> f64 {
    if flag {
        x.powi(n) * y
    } else {
        x * y
    }
}

#[backprop]
fn non_float_arguments(x: f64, n: i32, flag: bool, k: usize) -> f64 {
    let m = n * 2 + 1;
    let base = if flag { x.powi(m) } else { x.powi(n) };
    base * k as f64 + (k + 1) as f64
}

#[allow(unused_variables, unused_assignments)]
#[backprop]
fn dead_code(x: f64, y: f64) -> f64 {
    let unused = x.exp() * y;
    let also_unused = unused * unused + y.ln();
    let mut reassigned_unused = also_unused;
    reassigned_unused += x;
    x * y
}

#[test]
fn wrt_restricts_the_struct() {
    let (value, g) = only_some_grad(2.0, 3.0, 0.5);
    assert_eq!(value.to_bits(), only_some(2.0, 3.0, 0.5).to_bits());
    // Fails to compile if the struct has any field besides `a` and `b`.
    let OnlySomeGrad { a, b } = g;
    assert_eq!((a, b), (1.5, 1.0));
    check!(
        only_some,
        only_some_grad,
        (a, b; 0.5),
        [[2.0, 3.0], [-1.0, 0.25], [0.5, -4.0]],
        |a, b| a * b * 0.5 + 0.5_f64.exp()
    );
    let OnlyOneGrad { b } = only_one_grad(1.0, 2.0).1;
    assert_eq!(b, 1.0_f64.sin());

    for flag in [true, false] {
        for n in [0, 2, 3] {
            let (value, g) = wrt_with_non_floats_grad(1.5, 2.0, n, flag);
            assert_eq!(value.to_bits(), wrt_with_non_floats(1.5, 2.0, n, flag).to_bits());
            let WrtWithNonFloatsGrad { x } = g;
            let expected = if flag { n as f64 * 1.5_f64.powi(n - 1) * 2.0 } else { 2.0 };
            common::assert_close("wrt_with_non_floats", "d/dx", &["x"], &[1.5], expected, x, 1e-15, 0.0);
        }
    }
}

#[test]
fn non_float_arguments_pass_through() {
    for flag in [true, false] {
        for n in [-1, 0, 1, 2] {
            for k in [0usize, 1, 3] {
                let names = ["x"];
                let func = format!("non_float_arguments(x, n = {n}, flag = {flag}, k = {k})");
                for x in [0.5, 1.5, -2.0] {
                    let (value, g) = non_float_arguments_grad(x, n, flag, k);
                    let NonFloatArgumentsGrad { x: gx } = g;
                    common::assert_bits_eq(&func, "value", &names, &[x], non_float_arguments(x, n, flag, k), value);
                    common::check_fd(&func, &names, &[x], &|a| non_float_arguments(a[0], n, flag, k), &[gx]);
                    let m = n * 2 + 1;
                    common::check_dual(
                        &func,
                        &names,
                        &[x],
                        value,
                        &|a| {
                            let base = if flag { a[0].powi(m) } else { a[0].powi(n) };
                            base * k as f64 + (k + 1) as f64
                        },
                        &[gx],
                    );
                }
            }
        }
    }
    assert_eq!(non_float_arguments_grad(2.0, 1, true, 1).1.x, 12.0);
}

#[test]
fn dead_code_does_not_contribute() {
    for (x, y) in [(0.5, 1.5), (-2.0, 3.0), (1.0, 0.25)] {
        let (value, g) = dead_code_grad(x, y);
        assert_eq!(value.to_bits(), dead_code(x, y).to_bits());
        assert_eq!(g, DeadCodeGrad { x: y, y: x });
    }
    // Dead code must not poison the gradient even where it would be NaN (ln of a negative).
    let (value, g) = dead_code_grad(2.0, -3.0);
    assert_eq!(value, -6.0);
    assert_eq!(g, DeadCodeGrad { x: -3.0, y: 2.0 });
}

// ---------------------------------------------------------------------------------------------
// The value returned by `_grad` is bit-for-bit the original's

#[backprop]
fn nontrivial_a(x: f64, y: f64, z: f64) -> f64 {
    let a = (x * y + z).sin() / (1.0 + z * z);
    let b = a.exp() * x.powi(3) - y.sqrt().ln_1p();
    let c = b.atan2(z) + x.hypot(y) * 0.1;
    c.tanh() * sigmoid(a) + softplus(b) * 1e-3
}

#[backprop]
fn nontrivial_b(x: f64, y: f64) -> f64 {
    let mut acc = x;
    acc = acc.mul_add(y, 0.1);
    acc /= 3.0;
    acc -= y.cbrt();
    let t = if acc > 0.0 { acc.sqrt() } else { (-acc).ln_1p() };
    t * gelu(x) + (x / y).powf(1.7) + std::f64::consts::FRAC_1_SQRT_2 * y
}

#[backprop]
fn nontrivial_c(w: f64, b: f64, x: f64, y: f64) -> f64 {
    let z = w * x + b;
    let p = sigmoid(z);
    -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
}

#[test]
fn value_is_bit_for_bit_the_original() {
    let mut n = 0;
    for &x in &[0.3, 1.7, 2.9] {
        for &y in &[0.2, 1.1, 4.5] {
            for &z in &[-1.3, 0.0, 0.8] {
                assert_eq!(
                    nontrivial_a_grad(x, y, z).0.to_bits(),
                    nontrivial_a(x, y, z).to_bits(),
                    "nontrivial_a({x}, {y}, {z})"
                );
                n += 1;
            }
            assert_eq!(nontrivial_b_grad(x, y).0.to_bits(), nontrivial_b(x, y).to_bits(), "nontrivial_b({x}, {y})");
            assert_eq!(
                nontrivial_c_grad(x, -y, y, 1.0).0.to_bits(),
                nontrivial_c(x, -y, y, 1.0).to_bits(),
                "nontrivial_c"
            );
        }
    }
    assert_eq!(n, 27);
}

#[test]
fn nontrivial_gradients() {
    check!(
        nontrivial_a,
        nontrivial_a_grad,
        (x, y, z),
        [[0.3, 0.2, -1.3], [1.7, 1.1, 0.0], [2.9, 4.5, 0.8]],
        |x, y, z| {
            let a = (x * y + z).sin() / (z * z + 1.0);
            let b = a.exp() * x.powi(3) - y.sqrt().ln_1p();
            let cc = common::dual_atan2(b, z) + (x * x + y * y).sqrt() * 0.1;
            let sp = if b.re > 0.0 { b + (-b).exp().ln_1p() } else { b.exp().ln_1p() };
            cc.tanh() * d_sigmoid(a) + sp * 1e-3
        }
    );
    check!(
        nontrivial_c,
        nontrivial_c_grad,
        (w, b, x, y),
        [[0.5, -0.2, 1.5, 1.0], [-1.0, 0.3, 2.0, 0.0], [2.0, 0.1, -0.7, 0.3]],
        |w, b, x, y| {
            let p = d_sigmoid(w * x + b);
            -(y * p.ln() + (-y + 1.0) * (-p + 1.0).ln())
        }
    );
    // Logistic regression: dC/dz = p - y.
    let (_, g) = nontrivial_c_grad(0.5, -0.2, 1.5, 1.0);
    let p = sigmoid(0.5 * 1.5 - 0.2);
    common::assert_close("nontrivial_c", "d/dw", &[], &[], (p - 1.0) * 1.5, g.w, 1e-12, 1e-15);
    common::assert_close("nontrivial_c", "d/db", &[], &[], p - 1.0, g.b, 1e-12, 1e-15);
}

#[test]
fn nontrivial_b_gradient_both_branches() {
    let names = ["x", "y"];
    // acc > 0 (sqrt branch) and acc < 0 (ln_1p branch).
    for p in [[1.5, 0.8], [2.0, 2.5], [0.3, 2.0], [4.0, 3.0]] {
        let f = |a: &[f64]| nontrivial_b(a[0], a[1]);
        let (value, g) = nontrivial_b_grad(p[0], p[1]);
        assert_eq!(value.to_bits(), f(&p).to_bits());
        common::check_fd("nontrivial_b", &names, &p, &f, &[g.x, g.y]);
        let k = (2.0 / std::f64::consts::PI).sqrt();
        common::check_dual(
            "nontrivial_b",
            &names,
            &p,
            value,
            &|a| {
                let (x, y) = (a[0], a[1]);
                let acc = (x * y + 0.1) / 3.0 - y.cbrt();
                let t = if acc.re > 0.0 { acc.sqrt() } else { (-acc).ln_1p() };
                let gelu = x * (((x + x * x * x * 0.044715) * k).tanh() + 1.0) * 0.5;
                t * gelu + (x / y).powf(1.7) + y * std::f64::consts::FRAC_1_SQRT_2
            },
            &[g.x, g.y],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The generated struct, names and visibility

#[backprop]
fn two_layer(w1: f64, w2: f64, x: f64) -> f64 {
    (w2 * (w1 * x).tanh()).powi(2)
}

mod inner {
    use backprop::prelude::*;

    /// A documented, public cost inside a module.
    #[backprop]
    pub fn public_cost(w: f64, x: f64) -> f64 {
        (w * x - 1.0).powi(2)
    }

    #[backprop]
    pub(crate) fn crate_cost(w: f64) -> f64 {
        w.exp()
    }
}

#[allow(clippy::clone_on_copy)] // calling Clone is the point
fn assert_traits<T: std::fmt::Debug + Clone + Copy + PartialEq>(value: &T) -> (T, T) {
    (*value, value.clone())
}

#[test]
fn generated_struct_derives_debug_clone_copy_partial_eq() {
    let (_, g) = two_layer_grad(0.5, 2.0, 1.5);
    let (copied, cloned) = assert_traits(&g);
    assert_eq!(copied, g);
    assert_eq!(cloned, g);
    let moved = g;
    assert_eq!(moved, g, "g is still usable after a move: Copy");
    assert_ne!(g, TwoLayerGrad { w1: g.w1 + 1.0, ..g });
    let debug = format!("{g:?}");
    assert!(debug.starts_with("TwoLayerGrad"), "{debug}");
    assert!(debug.contains("w1") && debug.contains("w2") && debug.contains("x"), "{debug}");
    check!(
        two_layer,
        two_layer_grad,
        (w1, w2, x),
        [[0.5, 2.0, 1.5], [-1.0, 0.3, 0.7], [2.0, -1.5, -0.4]],
        |w1, w2, x| (w2 * (w1 * x).tanh()).powi(2)
    );
}

#[test]
fn visibility_follows_the_function() {
    let (value, g) = inner::public_cost_grad(2.0, 1.5);
    assert_eq!(value, 4.0);
    assert_eq!(g, inner::PublicCostGrad { w: 6.0, x: 8.0 });
    let (value, g) = inner::crate_cost_grad(0.0);
    assert_eq!((value, g.w), (1.0, 1.0));
    // The original functions are still there and callable.
    assert_eq!(inner::public_cost(2.0, 1.5), 4.0);
    assert_eq!(inner::crate_cost(0.0), 1.0);
}

// ---------------------------------------------------------------------------------------------
// The sigmoid chain

#[backprop]
fn sigmoid_chain(w1: f64, w2: f64, w3: f64, a0: f64, y: f64) -> f64 {
    let a1 = sigmoid(w1 * a0);
    let a2 = sigmoid(w2 * a1);
    let a3 = sigmoid(w3 * a2);
    (a3 - y).powi(2)
}

#[test]
fn sigmoid_chain_against_finite_differences() {
    check!(
        sigmoid_chain,
        sigmoid_chain_grad,
        (w1, w2, w3, a0, y),
        [
            [2.0, 3.0, 0.5, 1.0, 2.0],
            [-0.7, 1.2, 2.5, 0.3, 0.0],
            [0.1, -2.0, -1.5, -1.0, 1.0],
            [1.5, 0.5, -0.5, 2.0, 0.25]
        ],
        |w1, w2, w3, a0, y| {
            let a1 = d_sigmoid(w1 * a0);
            let a2 = d_sigmoid(w2 * a1);
            let a3 = d_sigmoid(w3 * a2);
            (a3 - y).powi(2)
        }
    );
    // Each layer adds one factor a(1 - a) · w: dC/dw1 = 2(a3 - y) · a3(1-a3) w3 · a2(1-a2) w2 · a1(1-a1) a0.
    let (w1, w2, w3, a0, y) = (2.0, 3.0, 0.5, 1.0, 2.0);
    let a1 = sigmoid(w1 * a0);
    let a2 = sigmoid(w2 * a1);
    let a3 = sigmoid(w3 * a2);
    let d3 = 2.0 * (a3 - y) * a3 * (1.0 - a3);
    let d2 = d3 * w3 * a2 * (1.0 - a2);
    let d1 = d2 * w2 * a1 * (1.0 - a1);
    let (c, g) = sigmoid_chain_grad(w1, w2, w3, a0, y);
    assert_eq!(c, (a3 - y).powi(2));
    let p = [w1, w2, w3, a0, y];
    let names = ["w1", "w2", "w3", "a0", "y"];
    for (what, expected, actual) in [
        ("d/dw3", d3 * a2, g.w3),
        ("d/dw2", d2 * a1, g.w2),
        ("d/dw1", d1 * a0, g.w1),
        ("d/da0", d1 * w1, g.a0),
        ("d/dy", -2.0 * (a3 - y), g.y),
    ] {
        common::assert_close("sigmoid_chain", what, &names, &p, expected, actual, 1e-12, 1e-15);
    }
}

#[test]
fn lesson_chain_is_exact() {
    #[backprop]
    fn lesson(w1: f64, w2: f64, w3: f64, a0: f64, y: f64) -> f64 {
        let a1 = w1 * a0;
        let a2 = w2 * a1;
        let a3 = w3 * a2;
        (a3 - y).powi(2)
    }
    let (c, g) = lesson_grad(2.0, 3.0, 0.5, 1.0, 2.0);
    assert_eq!(c, 1.0);
    assert_eq!(g, LessonGrad { w1: 3.0, w2: 2.0, w3: 12.0, a0: 6.0, y: -2.0 });
}

// ---------------------------------------------------------------------------------------------
// Harder combinations: equal subexpressions across branches, branch-local shadowing, arguments
// reassigned in branches, empty branches, bool locals, shadowing with other types.

#[backprop]
fn shared_across_branches(x: f64, y: f64) -> f64 {
    let mut a = 0.0;
    if x > 0.0 {
        a = (x * y).sin();
    }
    // The same expression again, outside the branch that may not have run.
    a + (x * y).sin() * 2.0
}

#[backprop]
fn shared_between_branches(x: f64, y: f64) -> f64 {
    let s = if x > y { (x * y).exp() + x } else { (x * y).exp() * y };
    s + (x * y).exp()
}

#[backprop]
fn branch_local_shadowing(x: f64, y: f64) -> f64 {
    let a = x * y;
    let mut out = a;
    if x > 0.0 {
        let a = a * 10.0;
        out += a;
    } else {
        let a = y;
        out *= a;
    }
    out + a
}

#[backprop]
fn argument_reassigned_in_branch(mut x: f64, y: f64) -> f64 {
    if x > y {
        x = x * 2.0;
    } else if x < -y {
        x = -x;
    }
    x * y
}

#[backprop]
fn empty_branch(x: f64, y: f64) -> f64 {
    let mut a = x;
    if x > 1.0 {
    } else {
        a = a * y;
    }
    a
}

#[backprop]
fn bool_locals(x: f64, y: f64, flag: bool) -> f64 {
    let big = x > 1.0;
    let other = !flag;
    let both = big && other;
    if both {
        x * y
    } else if big == flag {
        x + y
    } else {
        x - y
    }
}

#[backprop]
fn shadow_with_other_type(x: f64, n: i32) -> f64 {
    let n = n as f64 * x;
    let y = 2.0;
    n * y
}

#[allow(unused_variables)]
#[backprop]
fn argument_shadowed_by_constant(x: f64, y: f64) -> f64 {
    let y = 2.0;
    let x = x * y;
    let y = 3.0;
    x * y
}

#[backprop]
fn condition_on_reassigned(x: f64, y: f64) -> f64 {
    let mut a = x * y;
    if a > 1.0 {
        a = a * 0.5;
    }
    if a > 1.0 {
        a = a.ln() + 1.0;
    }
    a * x
}

#[backprop]
fn tail_is_block(x: f64) -> f64 {
    let y = x * 2.0;
    {
        let z = y * y;
        z + x
    }
}

#[backprop]
fn alias_chain(x: f64) -> f64 {
    let a = x;
    let b = a;
    let x = b;
    x
}

#[backprop]
fn same_argument_twice(x: f64) -> f64 {
    x.powf(x) + x.atan2(x) + x.hypot(x) + x / x + x.mul_add(x, x) + x.min(x)
}

#[backprop]
fn precedence(x: f64, y: f64) -> f64 {
    -x.powi(2) + -y * x - (x - y) / y * 2.0 - -x
}

#[backprop]
fn literal_forms(x: f64) -> f64 {
    x * 1e-3 + x * 1_000.0 + x * 2. + 1f64 * x + 0x10 as f64 * x + 1f32 as f64 * x + 3 as f64 * x
}

#[backprop]
fn deep_nesting(x: f64, y: f64) -> f64 {
    let mut a = x;
    if x > 0.0 {
        if y > 0.0 {
            if x > y {
                a *= y;
            } else {
                a += y;
            }
        } else {
            a -= y * y;
        }
        a *= 2.0;
    } else {
        if y > x {
            a = a.exp();
        }
        a += 1.0;
    }
    a * x
}

#[backprop]
fn int_conditions(x: f64, n: i32, k: usize) -> f64 {
    let m = n * 2;
    if m > 2 && k != 0 {
        x.powi(m) * k as f64
    } else if n < 0 {
        x.powi(n)
    } else {
        x * 2.0
    }
}

fn d_shared_across(x: Dual64, y: Dual64) -> Dual64 {
    let a = if x.re > 0.0 { (x * y).sin() } else { Dual64::from(0.0) };
    a + (x * y).sin() * 2.0
}

#[test]
fn subexpressions_shared_across_branches() {
    check!(
        shared_across_branches,
        shared_across_branches_grad,
        (x, y),
        [[0.7, 1.3], [-1.2, 0.4], [2.0, -0.5], [-0.5, -2.0]],
        |x, y| d_shared_across(x, y)
    );
    check!(
        shared_between_branches,
        shared_between_branches_grad,
        (x, y),
        [[0.7, 0.3], [-1.2, 0.4], [2.0, -0.5], [-0.5, 2.0]],
        |x, y| {
            let e = (x * y).exp();
            let s = if x.re > y.re { e + x } else { e * y };
            s + e
        }
    );
}

#[test]
fn branch_scoping_and_reassignment() {
    check!(
        branch_local_shadowing,
        branch_local_shadowing_grad,
        (x, y),
        [[0.7, 1.3], [-1.2, 0.4], [2.0, -0.5], [-0.5, -2.0]],
        |x, y| {
            let a = x * y;
            let out = if x.re > 0.0 { a + a * 10.0 } else { a * y };
            out + a
        }
    );
    check!(
        argument_reassigned_in_branch,
        argument_reassigned_in_branch_grad,
        (x, y),
        [[2.0, 1.0], [-2.0, 1.0], [0.5, 1.0], [-0.5, 1.0]],
        |x, y| {
            let x = if x.re > y.re {
                x * 2.0
            } else if x.re < -y.re {
                -x
            } else {
                x
            };
            x * y
        }
    );
    check!(empty_branch, empty_branch_grad, (x, y), [[2.0, 1.5], [0.5, 1.5], [-1.0, -3.0]], |x, y| if x.re > 1.0 {
        x
    } else {
        x * y
    });
    assert_eq!(empty_branch_grad(2.0, 1.5).1, EmptyBranchGrad { x: 1.0, y: 0.0 });
    for flag in [true, false] {
        check!(
            bool_locals,
            bool_locals_grad,
            (x, y; flag),
            [[2.0, 1.5], [0.5, 1.5], [-1.0, -3.0]],
            |x, y| {
                let big = x.re > 1.0;
                if big && !flag {
                    x * y
                } else if big == flag {
                    x + y
                } else {
                    x - y
                }
            }
        );
    }
    check!(
        condition_on_reassigned,
        condition_on_reassigned_grad,
        (x, y),
        // a = xy: ≤ 1; in (1, 2]: halved once; > 2: halved, then ln
        [[0.5, 1.5], [1.0, 1.5], [2.0, 3.0], [-3.0, -1.0]],
        |x, y| {
            let mut a = x * y;
            if a.re > 1.0 {
                a = a * 0.5;
            }
            if a.re > 1.0 {
                a = a.ln() + 1.0;
            }
            a * x
        }
    );
    check!(
        deep_nesting,
        deep_nesting_grad,
        (x, y),
        [[2.0, 1.5], [1.0, 1.5], [1.0, -0.5], [-1.0, 0.5], [-1.0, -3.0]],
        |x, y| {
            let a = if x.re > 0.0 {
                let a = if y.re > 0.0 {
                    if x.re > y.re {
                        x * y
                    } else {
                        x + y
                    }
                } else {
                    x - y * y
                };
                a * 2.0
            } else {
                let a = if y.re > x.re { x.exp() } else { x };
                a + 1.0
            };
            a * x
        }
    );
}

#[test]
fn shadowing_with_constants_and_other_types() {
    for n in [-2, 0, 3] {
        let (value, g) = shadow_with_other_type_grad(1.5, n);
        assert_eq!(value, shadow_with_other_type(1.5, n));
        assert_eq!(g, ShadowWithOtherTypeGrad { x: 2.0 * n as f64 });
    }
    // `y` is shadowed by a constant before any use: its gradient is exactly 0.
    assert_eq!(argument_shadowed_by_constant_grad(1.5, 7.0), (9.0, ArgumentShadowedByConstantGrad { x: 6.0, y: 0.0 }));
    assert_eq!(tail_is_block_grad(1.5), (10.5, TailIsBlockGrad { x: 13.0 }));
    for x in [0.0, -2.5, 1e10] {
        assert_eq!(alias_chain_grad(x), (x, AliasChainGrad { x: 1.0 }));
    }
}

#[test]
fn same_argument_in_both_operands() {
    check!(same_argument_twice, same_argument_twice_grad, (x), [[0.5], [1.5], [3.0]], |x| x.powd(x)
        + common::dual_atan2(x, x)
        + (x * x + x * x).sqrt()
        + x / x
        + x * x
        + x
        + x);
    // d/dx at 1: x^x → 1, atan2(x, x) → 0, hypot(x, x) → √2, x/x → 0, x·x + x → 3, min tie → 1.
    let (_, g) = same_argument_twice_grad(1.0);
    common::assert_close("same_argument_twice", "d/dx", &["x"], &[1.0], 5.0 + 2.0_f64.sqrt(), g.x, 1e-15, 1e-15);
}

#[test]
fn operator_precedence_and_literal_forms() {
    check!(precedence, precedence_grad, (x, y), [[0.7, 1.3], [-1.2, 0.4], [2.0, -0.5]], |x, y| -x.powi(2) + -y * x
        - (x - y) / y * 2.0
        + x);
    // d/dx = -2x - y - 2/y + 1, d/dy = -x + 2x/y².
    assert_eq!(precedence_grad(1.0, 2.0).1, PrecedenceGrad { x: -2.0 - 2.0 - 1.0 + 1.0, y: -1.0 + 0.5 });
    let expected = 1e-3 + 1_000.0 + 2.0 + 1.0 + 16.0 + 1.0 + 3.0;
    for x in [0.5, -2.0, 7.0] {
        let (value, g) = literal_forms_grad(x);
        assert_eq!(value.to_bits(), literal_forms(x).to_bits());
        common::assert_close("literal_forms", "d/dx", &["x"], &[x], expected, g.x, 1e-15, 0.0);
    }
}

#[test]
fn integer_conditions() {
    for (n, k) in [(2, 3usize), (2, 0), (-2, 1), (0, 5), (1, 1)] {
        for x in [0.5, 1.5, -2.0] {
            let (value, g) = int_conditions_grad(x, n, k);
            assert_eq!(value.to_bits(), int_conditions(x, n, k).to_bits(), "at x = {x}, n = {n}, k = {k}");
            let names = ["x"];
            let func = format!("int_conditions(x, n = {n}, k = {k})");
            common::check_fd(&func, &names, &[x], &|a| int_conditions(a[0], n, k), &[g.x]);
        }
    }
    assert_eq!(int_conditions_grad(2.0, 2, 3).1.x, 4.0 * 8.0 * 3.0);
    assert_eq!(int_conditions_grad(2.0, 0, 3).1.x, 2.0);
}

// ---------------------------------------------------------------------------------------------
// Signatures: attributes, raw identifiers, underscore arguments, many arguments, `wrt` order

/// A documented cost; the attributes below stay on the original function.
#[inline]
#[must_use]
#[backprop]
fn with_attributes(x: f64, _ignored: f64) -> f64 {
    x * x
}

#[backprop]
fn raw_arguments(r#in: f64, r#fn: f64) -> f64 {
    r#in * r#fn
}

#[backprop]
fn many_arguments(
    a: f64,
    b: f64,
    c: f64,
    d: f64,
    e: f64,
    f: f64,
    g: f64,
    h: f64,
    i: f64,
    j: f64,
    k: f64,
    l: f64,
) -> f64 {
    a + 2.0 * b + 3.0 * c + 4.0 * d + 5.0 * e + 6.0 * f + 7.0 * g + 8.0 * h + 9.0 * i + 10.0 * j + 11.0 * k + 12.0 * l
}

#[backprop(wrt(c, a))]
fn wrt_out_of_order(a: f64, b: f64, mut c: f64) -> f64 {
    if b > 0.0 {
        c *= b;
    }
    a * c
}

#[backprop]
fn max_with_literal(x: f64) -> f64 {
    x.max(0.0) + x.min(1.0)
}

mod nested {
    pub mod deeper {
        use backprop::prelude::*;

        #[backprop]
        pub(in crate::nested) fn restricted(x: f64) -> f64 {
            x * 3.0
        }

        #[backprop]
        pub(super) fn to_parent(x: f64) -> f64 {
            x * 3.0 + x
        }
    }

    pub fn call() -> (f64, f64) {
        (deeper::restricted_grad(1.0).1.x, deeper::to_parent_grad(1.0).1.x)
    }
}

#[test]
fn signatures() {
    assert_eq!(with_attributes_grad(3.0, 5.0), (9.0, WithAttributesGrad { x: 6.0, _ignored: 0.0 }));
    assert_eq!(with_attributes(3.0, 5.0), 9.0);
    let (value, g) = raw_arguments_grad(2.0, 3.0);
    assert_eq!(value, raw_arguments(2.0, 3.0));
    let RawArgumentsGrad { r#in, r#fn } = g;
    assert_eq!((r#in, r#fn), (3.0, 2.0));
    let (value, g) = many_arguments_grad(1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0);
    assert_eq!(value, 78.0);
    let ManyArgumentsGrad { a, b, c, d, e, f, g, h, i, j, k, l } = g;
    assert_eq!([a, b, c, d, e, f, g, h, i, j, k, l], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0]);
    let WrtOutOfOrderGrad { a, c } = wrt_out_of_order_grad(2.0, 3.0, 5.0).1;
    assert_eq!((a, c), (15.0, 6.0));
    let WrtOutOfOrderGrad { a, c } = wrt_out_of_order_grad(2.0, -3.0, 5.0).1;
    assert_eq!((a, c), (5.0, 2.0));
    assert_eq!(nested::call(), (3.0, 4.0));
}

#[test]
fn ties_with_literals_split_evenly() {
    // At 0: max(x, 0) ties (0.5), min(x, 1) passes 1. At 1: max passes 1, min ties (0.5).
    assert_eq!(max_with_literal_grad(0.0), (0.0, MaxWithLiteralGrad { x: 1.5 }));
    assert_eq!(max_with_literal_grad(1.0), (2.0, MaxWithLiteralGrad { x: 1.5 }));
    assert_eq!(max_with_literal_grad(0.5).1.x, 2.0);
    assert_eq!(max_with_literal_grad(-1.0).1.x, 1.0);
    assert_eq!(max_with_literal_grad(2.0).1.x, 1.0);
}

// ---------------------------------------------------------------------------------------------
// Functions generated by `macro_rules!`, integer expressions, associated constants, statement
// attributes, and values that simplification must not change (signed zeros, infinities, order of
// floating-point operations).

macro_rules! make_square {
    ($name:ident, $arg:ident) => {
        #[backprop]
        fn $name($arg: f64, k: f64) -> f64 {
            let y = $arg * k;
            y * y
        }
    };
}
make_square!(square_from_macro, z);

macro_rules! make_with_body {
    ($name:ident, $x:ident, $($body:tt)*) => {
        #[backprop]
        fn $name($x: f64) -> f64 {
            let w = $x * 2.0;
            let z = { $($body)* };
            z * w
        }
    };
}
make_with_body!(body_from_macro, x, let y = x * 3.0; y * x);

#[backprop]
fn local_named_like_fn(x: f64) -> f64 {
    let local_named_like_fn = x * 2.0;
    local_named_like_fn * local_named_like_fn
}

#[backprop]
fn int_cast_exponent(x: f64, k: usize) -> f64 {
    x.powi(k as i32) + x.powi(-(k as i32)) + (k as f64).sqrt() * x
}

#[backprop]
fn int_exponent_arithmetic(x: f64, n: i32) -> f64 {
    x.powi(n + 1) * x.powi(-n) + x.powi(n * n) + x * n.abs() as f64
}

#[backprop]
fn associated_constants(x: f64) -> f64 {
    x.min(f64::MAX) + x * f64::EPSILON + f64::MIN_POSITIVE
}

#[backprop]
fn typed_literals(x: f64) -> f64 {
    let a: f32 = 1.5;
    x * a as f64 + 2f32 as f64 * x
}

#[backprop]
fn negative_literal_receiver(x: f64) -> f64 {
    -2.0_f64.powi(2) * x + (-2.0_f64).powi(2) * x + x.powi(2_i32)
}

#[backprop]
fn statement_attributes(x: f64) -> f64 {
    #[allow(unused_variables)]
    let unused = x * 2.0;
    x * 3.0
}

#[backprop]
fn plus_zero(x: f64) -> f64 {
    x + 0.0
}

#[backprop]
fn times_zero_alone(x: f64) -> f64 {
    x * 0.0
}

#[backprop]
fn minus_itself_plus(x: f64, y: f64) -> f64 {
    x - x + y
}

#[backprop]
fn literal_order(x: f64) -> f64 {
    0.1 * x * 3.0 + x * 0.1 * 0.2 + (x + 0.1) + 0.2 - x / 3.0 * 3.0
}

#[test]
fn functions_generated_by_macro_rules() {
    assert_eq!(square_from_macro_grad(2.0, 3.0), (36.0, SquareFromMacroGrad { z: 36.0, k: 24.0 }));
    // 3x² · 2x = 6x³.
    assert_eq!(body_from_macro_grad(2.0), (48.0, BodyFromMacroGrad { x: 72.0 }));
    assert_eq!(local_named_like_fn_grad(1.5), (9.0, LocalNamedLikeFnGrad { x: 12.0 }));
}

#[test]
fn integer_expressions_and_constants() {
    assert_eq!(int_cast_exponent_grad(2.0, 2).1.x, 4.0 - 2.0 / 8.0 + 2f64.sqrt());
    for k in [0usize, 1, 3] {
        for x in [0.5, 1.5, -2.0] {
            let (value, g) = int_cast_exponent_grad(x, k);
            assert_eq!(value.to_bits(), int_cast_exponent(x, k).to_bits());
            let func = format!("int_cast_exponent(x, k = {k})");
            common::check_fd(&func, &["x"], &[x], &|a| int_cast_exponent(a[0], k), &[g.x]);
        }
    }
    // x^(n+1) · x^-n = x, so d/dx = 1 + n² x^(n²-1) + |n|.
    assert_eq!(int_exponent_arithmetic_grad(2.0, 2).1.x, 1.0 + 4.0 * 8.0 + 2.0);
    for n in [-2, 0, 1, 3] {
        for x in [0.5, 1.5, -2.0] {
            let (value, g) = int_exponent_arithmetic_grad(x, n);
            assert_eq!(value.to_bits(), int_exponent_arithmetic(x, n).to_bits());
            let func = format!("int_exponent_arithmetic(x, n = {n})");
            common::check_fd(&func, &["x"], &[x], &|a| int_exponent_arithmetic(a[0], n), &[g.x]);
        }
    }
    assert_eq!(
        associated_constants_grad(2.0),
        (associated_constants(2.0), AssociatedConstantsGrad { x: 1.0 + f64::EPSILON })
    );
    assert_eq!(typed_literals_grad(2.0), (7.0, TypedLiteralsGrad { x: 3.5 }));
    // `-2.0_f64.powi(2)` is `-(2²)`; `(-2.0_f64).powi(2)` is 4.
    assert_eq!(negative_literal_receiver_grad(2.0), (4.0, NegativeLiteralReceiverGrad { x: 4.0 }));
    assert_eq!(statement_attributes_grad(2.0), (6.0, StatementAttributesGrad { x: 3.0 }));
}

#[test]
fn simplification_keeps_ieee_values() {
    // x + 0.0 is +0.0 at x = -0.0, so it cannot be simplified to x.
    assert_eq!(plus_zero_grad(-0.0).0.to_bits(), plus_zero(-0.0).to_bits());
    assert_eq!(plus_zero_grad(-0.0).1.x, 1.0);
    // x * 0.0 is -0.0 for negative x and NaN for infinite x, so it cannot be folded to 0.0.
    assert_eq!(times_zero_alone_grad(-2.0).0.to_bits(), times_zero_alone(-2.0).to_bits());
    assert!(times_zero_alone_grad(f64::INFINITY).0.is_nan());
    assert_eq!(times_zero_alone_grad(3.0).1.x, 0.0);
    // x - x is NaN at infinity.
    assert!(minus_itself_plus_grad(f64::INFINITY, 1.0).0.is_nan());
    assert_eq!(minus_itself_plus_grad(5.0, 1.0), (1.0, MinusItselfPlusGrad { x: 0.0, y: 1.0 }));
    // Literals are combined in the order Rust evaluates, never reassociated.
    for x in [0.3, 1.7, -2.9, 1e10, 7.0 / 3.0] {
        assert_eq!(literal_order_grad(x).0.to_bits(), literal_order(x).to_bits(), "literal_order({x})");
    }
    check!(literal_order, literal_order_grad, (x), [[0.3], [1.7], [-2.9]], |x| x * 0.1 * 3.0
        + x * 0.1 * 0.2
        + (x + 0.1)
        + 0.2
        - x / 3.0 * 3.0);
}

// A function whose name is a raw identifier: generated names built from it stay valid.
mod raw_function_name {
    use backprop::prelude::*;

    #[backprop]
    fn r#match(x: f64, y: f64) -> f64 {
        x * y
    }

    #[test]
    fn raw_function_name() {
        assert_eq!(match_grad(2.0, 3.0), (6.0, MatchGrad { x: 3.0, y: 2.0 }));
        assert_eq!(r#match(2.0, 3.0), 6.0);
    }
}

#[test]
fn raw_function_name_expands_to_valid_code() {
    let src = "fn r#match(x: f64, y: f64) -> f64 { x * y }";
    let out = backprop_codegen::expand("".parse().unwrap(), src.parse().unwrap());
    let text = out.to_string();
    let file: syn::File =
        syn::parse2(out).unwrap_or_else(|e| panic!("expansion of `{src}` does not parse: {e}\n{text}"));
    let names: Vec<String> = file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Fn(f) => Some(f.sig.ident.to_string()),
            _ => None,
        })
        .collect();
    assert!(names.contains(&"match_grad".to_string()), "{names:?}");
}
