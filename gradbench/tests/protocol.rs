//! One protocol session through the built binary (`CARGO_BIN_EXE_backprop-gradbench`): `start`,
//! `define` for every implemented module and an unknown one, `evaluate` of every function at a
//! small input (outputs checked against the library's and against closed forms where short),
//! timings honouring `min_runs`, and `analysis` acknowledged.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn session(messages: &[Value]) -> Vec<Value> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_backprop-gradbench"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the tool starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut responses = Vec::new();
    for m in messages {
        // One message, one response, as the intermediary drives it.
        writeln!(stdin, "{m}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        responses.push(serde_json::from_str(&line).expect("a JSON response"));
    }
    drop(stdin);
    assert!(child.wait().unwrap().success(), "the tool exits cleanly at end of input");
    responses
}

fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| close(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
        }
        _ => {
            let (p, q) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            (p - q).abs() <= 1e-9 * (1.0 + q.abs())
        }
    }
}

#[test]
fn a_session_over_every_module() {
    let runs = json!({ "min_runs": 3, "min_seconds": 0.0 });
    let with = |v: Value| {
        let mut v = v;
        v.as_object_mut().unwrap().extend(runs.as_object().unwrap().clone());
        v
    };
    let lse_x = json!({ "x": [1.0, 2.0, 3.0] });
    let llsq_in = json!({ "x": [0.5, -0.25], "n": 3 });
    let ode_in = json!({ "x": [0.7, 0.3], "s": 2 });
    let det_in = json!({ "A": [1.0, 2.0, 3.0, 4.0], "ell": 2 });
    let gmm_in = json!({
        "d": 2, "k": 2, "n": 2, "m": 0, "gamma": 1.0,
        "alpha": [0.1, -0.2], "mu": [[0.1, 0.2], [0.3, 0.4]], "q": [[0.1, -0.1], [0.2, 0.0]],
        "l": [[0.5], [-0.3]], "x": [[1.0, 0.5], [-0.5, 0.25]]
    });
    let lstm_in = json!({
        "main_params": [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], [0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]],
        "extra_params": [[0.3, 0.2], [0.5, 0.1], [0.2, 0.4]],
        "state": [[0.1, 0.9], [0.4, 0.6]],
        "sequence": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    });
    let mut messages = vec![json!({ "id": 0, "kind": "start", "eval": "hello" })];
    let modules = ["hello", "lse", "llsq", "det", "ode", "gmm", "lstm"];
    for m in modules {
        messages.push(json!({ "id": messages.len(), "kind": "define", "module": m }));
    }
    messages.push(json!({ "id": messages.len(), "kind": "define", "module": "no-such-eval" }));
    let first_eval = messages.len();
    let evals = [
        ("hello", "square", json!(3.0)),
        ("hello", "double", json!(3.0)),
        ("lse", "primal", with(lse_x.clone())),
        ("lse", "gradient", with(lse_x)),
        ("llsq", "primal", with(llsq_in.clone())),
        ("llsq", "gradient", with(llsq_in)),
        ("det", "primal", with(det_in.clone())),
        ("det", "gradient", with(det_in)),
        ("ode", "primal", with(ode_in.clone())),
        ("ode", "gradient", with(ode_in)),
        ("gmm", "objective", with(gmm_in.clone())),
        ("gmm", "jacobian", with(gmm_in)),
        ("lstm", "objective", with(lstm_in.clone())),
        ("lstm", "jacobian", with(lstm_in)),
    ];
    for (module, function, input) in &evals {
        messages.push(
            json!({ "id": messages.len(), "kind": "evaluate", "module": module, "function": function, "input": input }),
        );
    }
    messages.push(json!({ "id": messages.len(), "kind": "analysis", "of": first_eval, "valid": true }));
    let responses = session(&messages);

    for (m, r) in messages.iter().zip(&responses) {
        assert_eq!(m["id"], r["id"], "responses answer in order");
    }
    for r in &responses[1..=modules.len()] {
        assert_eq!(r["success"], json!(true), "{r}");
    }
    assert_eq!(responses[modules.len() + 1]["success"], json!(false));
    for (i, (module, function, input)) in evals.iter().enumerate() {
        let r = &responses[first_eval + i];
        assert_eq!(r["success"], json!(true), "{module}.{function}: {r}");
        let timings = r["timings"].as_array().unwrap();
        let min_runs = if *module == "hello" { 1 } else { 3 };
        assert!(timings.len() >= min_runs, "{module}.{function}: {} timings", timings.len());
        assert!(timings.iter().all(|t| t["name"] == "evaluate" && t["nanoseconds"].is_u64()));
        // The library's own answer, as the binary should have sent it.
        let expected = backprop_gradbench::protocol::evaluate(module, function, input).unwrap().0;
        assert!(close(&r["output"], &expected), "{module}.{function}: {} vs {expected}", r["output"]);
    }
    // Closed forms for the short ones.
    let out = |i: usize| &responses[first_eval + i]["output"];
    assert_eq!(out(0), &json!(9.0));
    assert_eq!(out(1), &json!(6.0));
    let z = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
    assert!(close(out(2), &json!(z)));
    assert!(close(out(3), &json!([(1.0 - z).exp(), (2.0 - z).exp(), (3.0 - z).exp()])));
    // llsq at n = 3: t = (−1, 0, 1), s = (−1, 0, 1), residuals r = s − x₀ − x₁ t = (−1.75, −0.5, 0.75),
    // gradient −Σ r tʲ = (1.5, −2.5).
    assert!(close(out(4), &json!(0.5 * (3.0625 + 0.25 + 0.5625))));
    assert!(close(out(5), &json!([1.5, -2.5])));
    assert!(close(out(6), &json!(-2.0)));
    assert!(close(out(7), &json!([4.0, -3.0, -2.0, 1.0])));
    assert!(close(out(8), &json!([1.4, 0.42])));
    // ode's gradient of y₁(2) = 2 x₀ x₁ (exact for RK4): (2 x₁, 2 x₀).
    assert!(close(out(9), &json!([0.6, 1.4])));
    let gmm_jac = out(11);
    assert_eq!(gmm_jac["mu"].as_array().unwrap().len(), 2);
    assert_eq!(gmm_jac["l"][0].as_array().unwrap().len(), 1);
    assert_eq!(out(13).as_array().unwrap().len(), 8 * 2 + 3 * 2);
    assert_eq!(responses.last().unwrap(), &json!({ "id": messages.len() - 1 }));
}
