//! Loss plots are written as real SVG and PNG files.

use backprop_runtime::{plot_loss, Adam, Trainer};

use crate::common::{data, scratch, squared_error, Linear};

#[test]
fn svg_and_png_loss_curves_are_written() {
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
    let png = scratch("loss.png");
    plot_loss(&history, &svg).unwrap();
    plot_loss(&history, &png).unwrap();
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert!(svg_text.starts_with("<svg"), "{}", &svg_text[..svg_text.len().min(80)]);
    assert!(svg_text.contains("Training loss"));
    assert!(svg_text.contains("validation"));
    let png_bytes = std::fs::read(&png).unwrap();
    assert!(png_bytes.len() > 1000, "{}", png_bytes.len());
    assert_eq!(&png_bytes[..8], b"\x89PNG\r\n\x1a\n");
}
