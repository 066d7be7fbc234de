//! The GradBench tool: reads protocol messages from stdin, one JSON object a line, and writes one
//! response a line to stdout, until stdin ends.

use std::io::{BufRead, Write};

fn main() {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let response = match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(message) => backprop_gradbench::protocol::respond(&message),
            Err(e) => serde_json::json!({ "id": null, "success": false, "error": format!("invalid JSON: {e}") }),
        };
        if writeln!(stdout, "{response}").and_then(|_| stdout.flush()).is_err() {
            break;
        }
    }
}
