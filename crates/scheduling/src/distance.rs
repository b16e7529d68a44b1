//! Distances between places, for home visits and "nearest clinic".

/// Mean Earth radius (IUGG), in kilometres.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance in kilometres (haversine, mean Earth radius 6371.0088 km).
/// Arguments (latitude, longitude) in degrees.
///
/// Accurate to about 0.5% (the Earth is not a sphere), which is plenty for ranking
/// clinics or checking a home-visit radius.
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    // Rounding can push `h` a hair above 1 for antipodal points.
    2.0 * EARTH_RADIUS_KM * h.min(1.0).sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARIS: (f64, f64) = (48.8566, 2.3522);
    const BOSTON: (f64, f64) = (42.3601, -71.0589);
    const LONDON: (f64, f64) = (51.5074, -0.1278);

    #[test]
    fn paris_to_boston() {
        let d = distance_km(PARIS, BOSTON);
        assert!((d - 5531.2).abs() < 10.0, "{d}");
        assert_eq!(d, distance_km(BOSTON, PARIS));
    }

    #[test]
    fn paris_to_london() {
        let d = distance_km(PARIS, LONDON);
        assert!((d - 343.6).abs() < 1.0, "{d}");
    }

    #[test]
    fn same_point_is_zero() {
        assert_eq!(distance_km(PARIS, PARIS), 0.0);
    }

    #[test]
    fn antipodes_are_half_the_circumference() {
        let half = std::f64::consts::PI * EARTH_RADIUS_KM;
        assert!((distance_km((0.0, 0.0), (0.0, 180.0)) - half).abs() < 1e-6);
        assert!((distance_km((90.0, 0.0), (-90.0, 0.0)) - half).abs() < 1e-6);
    }
}
