//! QR decoding on a corpus of degraded images (`qr-corpus/make_corpus.py`): the share decoded
//! exactly and the time per image, per degradation kind. Run with
//! `cargo bench -p twofold-core --bench qr_corpus` after generating the corpus (see
//! `qr-corpus/README` in the project README's benchmark section); `TWOFOLD_QR_CORPUS` names
//! the corpus folder (default `target/qr-corpus`). Compare with zbar: `qr-corpus/zbar_rate.py`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use serde_json::Value;
use twofold_core::scan;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

fn main() {
    let dir = std::env::var_os("TWOFOLD_QR_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/qr-corpus")
        });
    let manifest = dir.join("manifest.json");
    let Ok(text) = std::fs::read_to_string(&manifest) else {
        println!(
            "qr_corpus: SKIPPED: no corpus at {} (generate it: python3 crates/core/benches/qr-corpus/make_corpus.py {})",
            dir.display(),
            dir.display()
        );
        return;
    };
    let entries: Vec<Value> = serde_json::from_str(&text).expect("manifest.json is a JSON list");
    // kind -> (decoded, total, decode ms, load+decode ms)
    let mut per_kind: BTreeMap<String, (usize, usize, Vec<f64>, Vec<f64>)> = BTreeMap::new();
    let mut all_decode = Vec::new();
    let mut all_total = Vec::new();
    let mut failed = Vec::new();
    for e in &entries {
        let file = e["file"].as_str().expect("file");
        let kind = e["kind"].as_str().expect("kind").to_owned();
        let want = e["text"].as_str().expect("text");
        let bytes = std::fs::read(dir.join(file)).expect("image file");
        let t0 = Instant::now();
        let (luma, w, h) = scan::load_luma(&bytes).expect("readable image");
        let t1 = Instant::now();
        let found = scan::scan_luma(&luma, w, h).unwrap_or_default();
        let t2 = Instant::now();
        let decode_ms = (t2 - t1).as_secs_f64() * 1e3;
        let total_ms = (t2 - t0).as_secs_f64() * 1e3;
        let ok = found.iter().any(|t| t == want);
        let k = per_kind.entry(kind.clone()).or_default();
        k.0 += usize::from(ok);
        k.1 += 1;
        k.2.push(decode_ms);
        k.3.push(total_ms);
        all_decode.push(decode_ms);
        all_total.push(total_ms);
        if !ok {
            failed.push(format!("{file} ({kind})"));
        }
    }
    println!(
        "{:<14} {:>9} {:>7} {:>14} {:>18}",
        "kind", "decoded", "rate", "median decode", "median load+decode"
    );
    let (mut ok_all, mut n_all) = (0, 0);
    for (kind, (ok, n, mut d, mut t)) in per_kind {
        ok_all += ok;
        n_all += n;
        println!(
            "{kind:<14} {:>9} {:>6.1}% {:>11.3} ms {:>15.3} ms",
            format!("{ok}/{n}"),
            100.0 * ok as f64 / n as f64,
            median(&mut d),
            median(&mut t)
        );
    }
    println!(
        "{:<14} {:>9} {:>6.1}% {:>11.3} ms {:>15.3} ms",
        "overall",
        format!("{ok_all}/{n_all}"),
        100.0 * ok_all as f64 / n_all.max(1) as f64,
        median(&mut all_decode),
        median(&mut all_total)
    );
    if !failed.is_empty() {
        println!("not decoded: {}", failed.join(", "));
    }
}
