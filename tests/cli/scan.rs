//! `twofold scan IMAGE... [--json]` on images drawn by the test.

use std::path::{Path, PathBuf};

use image::{GrayImage, ImageFormat, Luma};
use rxing::Writer;
use serde_json::Value;

use crate::{assert_error, stdout, twofold};

const URI_A: &str =
    "otpauth://totp/ACME%20Co:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co";
const URI_B: &str = "otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=3";

/// Draws `text` as a QR code at `scale` px per module with a 4-module quiet zone, at (x, y).
pub(crate) fn draw(img: &mut GrayImage, text: &str, x: u32, y: u32, scale: u32, inverted: bool) {
    let m = rxing::qrcode::QRCodeWriter
        .encode(text, &rxing::BarcodeFormat::QR_CODE, 0, 0)
        .unwrap();
    let (dark, light) = if inverted { (230, 20) } else { (0, 255) };
    let size = m.getWidth() + 8;
    for my in 0..size {
        for mx in 0..size {
            let on = mx >= 4
                && my >= 4
                && mx - 4 < m.getWidth()
                && my - 4 < m.getHeight()
                && m.get(mx - 4, my - 4);
            for dy in 0..scale {
                for dx in 0..scale {
                    img.put_pixel(
                        x + mx * scale + dx,
                        y + my * scale + dy,
                        Luma([if on { dark } else { light }]),
                    );
                }
            }
        }
    }
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("twofold-scan-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn save(img: &GrayImage, name: &str, format: ImageFormat) -> PathBuf {
    let p = dir().join(name);
    img.save_with_format(&p, format).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn one_code_in_a_png_and_a_jpeg() {
    let mut img = GrayImage::from_pixel(400, 400, Luma([255]));
    draw(&mut img, URI_A, 20, 20, 6, false);
    for (name, fmt) in [("a.png", ImageFormat::Png), ("a.jpg", ImageFormat::Jpeg)] {
        let p = save(&img, name, fmt);
        let o = twofold(&["scan", s(&p)]);
        assert!(o.status.success(), "{name}: {}", crate::stderr(&o));
        assert_eq!(stdout(&o), format!("{URI_A}\n"));
    }
}

#[test]
fn two_codes_in_a_screenshot_and_json() {
    let mut img = GrayImage::from_pixel(1080, 2340, Luma([245]));
    draw(&mut img, URI_A, 100, 300, 7, false);
    draw(&mut img, URI_B, 500, 1400, 7, false);
    let p = save(&img, "two.png", ImageFormat::Png);
    let o = twofold(&["scan", s(&p), "--json"]);
    assert!(o.status.success());
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let mut texts: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    texts.sort();
    assert_eq!(texts, vec![URI_B, URI_A]);
    assert!(v.as_array().unwrap().iter().all(|e| e["file"] == s(&p)));
}

#[test]
fn inverted_colours_as_in_dark_mode() {
    let mut img = GrayImage::from_pixel(400, 400, Luma([20]));
    draw(&mut img, URI_B, 30, 30, 5, true);
    let p = save(&img, "dark.png", ImageFormat::Png);
    let o = twofold(&["scan", s(&p)]);
    assert!(o.status.success(), "{}", crate::stderr(&o));
    assert_eq!(stdout(&o), format!("{URI_B}\n"));
}

#[test]
fn no_code_and_not_an_image_exit_1() {
    let blank = save(
        &GrayImage::from_pixel(200, 200, Luma([255])),
        "blank.png",
        ImageFormat::Png,
    );
    let line = assert_error(&twofold(&["scan", s(&blank)]), 1);
    assert!(line.contains("no QR code"), "{line}");
    let text = dir().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let line = assert_error(&twofold(&["scan", s(&text)]), 1);
    assert!(line.contains("not a readable PNG or JPEG"), "{line}");
    let line = assert_error(&twofold(&["scan", "/nonexistent/x.png"]), 1);
    assert!(line.contains("/nonexistent/x.png"), "{line}");
}

#[test]
fn every_file_is_scanned_even_after_a_bad_one() {
    let mut img = GrayImage::from_pixel(300, 300, Luma([255]));
    draw(&mut img, URI_A, 10, 10, 4, false);
    let good = save(&img, "good.png", ImageFormat::Png);
    let o = twofold(&["scan", "/nonexistent/y.png", s(&good)]);
    assert_error(&o, 1);
    assert_eq!(stdout(&o), format!("{URI_A}\n"));
}
