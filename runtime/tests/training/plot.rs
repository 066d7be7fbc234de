//! Loss plots are written as real SVG files.

use backprop_runtime::{plot_loss, Adam, Trainer};

use crate::common::{data, scratch, squared_error, Linear};

#[test]
fn svg_loss_curves_are_written() {
    let data = data(40);
    let mut p = Linear::default();
    let history = Trainer::new(Adam::new(0.05).unwrap())
        .batch_size(8)
        .unwrap()
        .epochs(20)
        .validation(|p: &Linear| (p.b - 0.5).abs() + 1e-3)
        .fit(&mut p, &data, squared_error)
        .unwrap();
    let svg = scratch("loss.svg");
    plot_loss(&history, &svg).unwrap();
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert!(svg_text.starts_with("<svg"), "{}", &svg_text[..svg_text.len().min(80)]);
    assert!(svg_text.contains("Training loss"));
    assert!(svg_text.contains("validation"));
    assert!(svg_text.trim_end().ends_with("</svg>"));
    // The two series are the width-2 polylines (axes and legend samples are width 1), one
    // point per epoch each.
    let series: Vec<&str> =
        svg_text.lines().filter(|l| l.contains("<polyline") && l.contains("stroke-width=\"2\"")).collect();
    assert_eq!(series.len(), 2, "{svg_text}");
    for line in series {
        let points = line.split("points=\"").nth(1).unwrap_or("");
        assert_eq!(points.split_whitespace().filter(|p| p.contains(',')).count(), 20, "{line}");
    }
}
