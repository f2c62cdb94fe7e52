//! A place a person recognises near a location ("near Goeteborg, SE"), looked up on the
//! device: no network call, the location never leaves the phone.
//!
//! The data are GeoNames' places of 1000 people or more (about 145,000, `cities1000`) as the
//! `reverse_geocoder` crate bundles them (MIT/Apache-2.0; the data CC BY 4.0, GeoNames). Chosen
//! because it is the one maintained Rust crate that ships its data inside the crate (nothing
//! downloaded at build or run time) and answers a nearest-place query from a k-d tree in
//! microseconds. Names are GeoNames' ASCII forms (Göteborg is "Goeteborg"). Its cost: about
//! 7.9 MB of text in the binary (2.2 MB compressed in the crate), and the table is read on the
//! first lookup (measured by the test below: about 0.5 s and 50 MiB more resident memory, which
//! stays for the life of the app) and kept; lookups after it take microseconds. The first
//! lookup runs off the UI thread (`location_current`). A smaller table (bigger towns only) would
//! need data of our own; this keeps the data's upkeep with the crate.

use std::sync::OnceLock;

use reverse_geocoder::ReverseGeocoder;

use crate::dto::{LocationView, PlaceView};

/// Farther than this from every place (kilometres), a location is named by its coordinates
/// only: at sea, or in a wilderness where the "nearest town" would mislead.
pub const NEAR_KM: f64 = 50.0;

/// The Earth's mean radius (IUGG), kilometres.
const EARTH_KM: f64 = 6371.0088;

fn geocoder() -> &'static ReverseGeocoder {
    static GEOCODER: OnceLock<ReverseGeocoder> = OnceLock::new();
    GEOCODER.get_or_init(ReverseGeocoder::new)
}

/// The place nearest to `latitude`, `longitude` (degrees), within [`NEAR_KM`]; `None` for
/// coordinates that are not on the Earth (NaN, out of range) or far from any place.
pub fn near(latitude: f64, longitude: f64) -> Option<PlaceView> {
    if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
        return None;
    }
    let found = geocoder().search((latitude, longitude));
    // The crate measures squared straight-line distance between points of the unit sphere:
    // the chord c gives the great-circle distance 2·asin(c/2)·R.
    let chord = found.distance.max(0.0).sqrt();
    let distance_km = 2.0 * (chord / 2.0).min(1.0).asin() * EARTH_KM;
    if !distance_km.is_finite() || distance_km > NEAR_KM {
        return None;
    }
    let r = found.record;
    Some(PlaceView {
        name: r.name.clone(),
        region: r.admin1.clone(),
        country: r.cc.clone(),
        distance_km,
    })
}

/// `location` with its place filled in.
pub fn with_place(mut location: LocationView) -> LocationView {
    location.place = near(location.latitude, location.longitude);
    location
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resident memory of this process in MiB (Linux), for the figure printed below.
    fn rss_mib() -> Option<f64> {
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        Some(pages * 4096.0 / 1048576.0)
    }

    #[test]
    fn gothenburg_and_stockholm_are_named() {
        let (start, before) = (std::time::Instant::now(), rss_mib());
        // Gothenburg's Central Station and Stockholm's Sergels torg.
        let g = near(57.7089, 11.9746).expect("Gothenburg");
        println!(
            "first lookup (loads the table): {:?}, resident memory {:?} → {:?} MiB",
            start.elapsed(),
            before,
            rss_mib()
        );
        // GeoNames' ASCII names spell ö as "oe".
        assert_eq!((g.name.as_str(), g.country.as_str()), ("Goeteborg", "SE"));
        assert!(g.distance_km < 5.0, "{g:?}");
        let start = std::time::Instant::now();
        let s = near(59.3326, 18.0649).expect("Stockholm");
        println!("second lookup: {:?}", start.elapsed());
        assert_eq!((s.name.as_str(), s.country.as_str()), ("Stockholm", "SE"));
        assert!(s.distance_km < 5.0, "{s:?}");
    }

    #[test]
    fn the_open_sea_and_impossible_coordinates_have_no_place() {
        // The middle of the North Atlantic, ~1000 km from any island.
        assert_eq!(near(40.0, -40.0), None);
        // The Kattegat between Sweden and Denmark: within 50 km of a coast town.
        let k = near(57.0, 11.5).expect("a coast town");
        assert!(["SE", "DK"].contains(&k.country.as_str()), "{k:?}");
        assert_eq!(near(f64::NAN, 0.0), None);
        assert_eq!(near(91.0, 0.0), None);
        assert_eq!(near(0.0, 181.0), None);
    }

    #[test]
    fn a_location_gets_its_place() {
        let l = with_place(LocationView {
            latitude: 57.7089,
            longitude: 11.9746,
            accuracy_m: Some(1500.0),
            place: None,
        });
        assert_eq!(l.place.map(|p| p.name), Some("Goeteborg".into()));
    }
}
