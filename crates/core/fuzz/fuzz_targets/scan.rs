//! Any bytes as an image file, and as a small raw luma buffer: scanning must give QR texts or
//! a typed error (ScanError, including a caught decoder panic), never abort the process.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_core::scan;

fuzz_target!(|data: &[u8]| {
    let _ = scan::scan_image(data);
    // The same bytes as a luma image straight to the decoder (skips the PNG/JPEG readers).
    if data.len() >= 2 {
        let width = u32::from(data[0]).max(1);
        let pixels = &data[2..];
        let height = (pixels.len() as u32) / width;
        if height > 0 {
            let _ = scan::scan_luma(&pixels[..(width * height) as usize], width, height);
        }
    }
});
