//! A patient's body over time: height and weight along growth curves for children, a stable
//! body mass index for adults, blood pressure and heart rate that fit age and conditions.

use crate::rng::Rng;

/// Ages (years) of the growth tables below.
const AGES: [f64; 14] = [
    0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0,
];
/// Median height (cm) and weight (kg) by age, close to the WHO and CDC growth charts.
const BOY_HEIGHT: [f64; 14] = [
    50.0, 67.5, 76.0, 87.5, 96.0, 103.0, 110.0, 116.5, 128.0, 138.5, 149.5, 163.5, 173.0, 176.0,
];
const GIRL_HEIGHT: [f64; 14] = [
    49.0, 66.0, 74.0, 86.5, 95.0, 102.0, 109.0, 115.5, 127.5, 138.5, 151.5, 160.0, 162.5, 163.0,
];
const BOY_WEIGHT: [f64; 14] = [
    3.4, 7.9, 9.7, 12.5, 14.3, 16.3, 18.4, 20.7, 25.6, 31.5, 39.5, 50.5, 61.0, 68.0,
];
const GIRL_WEIGHT: [f64; 14] = [
    3.3, 7.3, 9.0, 11.8, 13.9, 16.0, 18.2, 20.5, 25.5, 32.0, 41.5, 50.0, 54.5, 57.0,
];

#[derive(Debug, Clone)]
pub struct Body {
    female: bool,
    /// Height relative to the median for sex and age (kept from childhood to adulthood).
    stature: f64,
    /// Body mass index as an adult; children are heavier or lighter in proportion.
    pub adult_bmi: f64,
    /// This person's usual offset from the typical blood pressure for their age.
    bp_offset: f64,
    resting_heart_rate: f64,
}

/// A set of vital signs taken at one visit.
#[derive(Debug, Clone, Copy)]
pub struct Vitals {
    pub height_cm: f64,
    pub weight_kg: f64,
    pub bmi: f64,
    pub systolic: i64,
    pub diastolic: i64,
    pub heart_rate: i64,
}

impl Body {
    /// `bmi_mean`: the region's mean adult body mass index.
    pub fn new(rng: &mut Rng, female: bool, bmi_mean: f64) -> Body {
        Body {
            female,
            stature: rng.around(1.0, 0.035),
            adult_bmi: rng.around(bmi_mean, 4.0).clamp(17.5, 44.0),
            bp_offset: rng.around(0.0, 6.0),
            resting_heart_rate: rng.around(70.0, 7.0),
        }
    }

    pub fn height_cm(&self, age: f64) -> f64 {
        let table = if self.female {
            &GIRL_HEIGHT
        } else {
            &BOY_HEIGHT
        };
        // Adults lose a little height after seventy.
        let shrink = ((age - 70.0) * 0.15).max(0.0);
        curve(table, age) * self.stature - shrink
    }

    pub fn weight_kg(&self, age: f64) -> f64 {
        let height = self.height_cm(age) / 100.0;
        if age >= 18.0 {
            return self.adult_bmi * height * height;
        }
        let (heights, weights) = if self.female {
            (&GIRL_HEIGHT, &GIRL_WEIGHT)
        } else {
            (&BOY_HEIGHT, &BOY_WEIGHT)
        };
        // The median adult's BMI at 18, so childhood and adulthood join without a jump.
        let median_bmi = weights[13] / (heights[13] / 100.0).powi(2);
        curve(weights, age) * self.stature * self.stature * self.adult_bmi / median_bmi
    }

    /// Vital signs at `age` (years). `hypertensive`: blood pressure runs high even when
    /// treated.
    pub fn vitals(&self, age: f64, hypertensive: bool, rng: &mut Rng) -> Vitals {
        let height_cm = self.height_cm(age);
        // Weight drifts a little from one visit to the next.
        let weight_kg = self.weight_kg(age) * rng.around(1.0, 0.012);
        let bmi = weight_kg / (height_cm / 100.0).powi(2);
        let systolic = if age < 18.0 {
            92.0 + 1.4 * age + self.bp_offset * 0.6
        } else {
            104.0 + 0.4 * age + (self.adult_bmi - 25.0) * 0.7 + self.bp_offset
        } + if hypertensive { 18.0 } else { 0.0 }
            + rng.around(0.0, 4.0);
        let diastolic = 0.55 * systolic + 9.0 + rng.around(0.0, 3.0);
        let heart_rate = if age < 12.0 {
            125.0 - 4.5 * age
        } else {
            self.resting_heart_rate
        } + rng.around(0.0, 4.0);
        Vitals {
            height_cm,
            weight_kg,
            bmi,
            systolic: systolic.round() as i64,
            diastolic: diastolic.round() as i64,
            heart_rate: heart_rate.round() as i64,
        }
    }
}

/// Linear interpolation in a growth table; past the last age, the last value.
fn curve(values: &[f64; 14], age: f64) -> f64 {
    if age >= AGES[13] {
        return values[13];
    }
    let i = AGES.iter().rposition(|a| *a <= age).unwrap_or(0);
    let t = (age - AGES[i]) / (AGES[i + 1] - AGES[i]);
    values[i] + t * (values[i + 1] - values[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_grow_and_adults_keep_their_bmi() {
        let mut rng = Rng::new(3);
        let body = Body::new(&mut rng, false, 26.0);
        let mut last = 0.0;
        for age in [0.0, 0.7, 2.0, 5.5, 9.0, 13.0, 17.0, 17.99, 18.0, 40.0] {
            let h = body.height_cm(age);
            assert!(h >= last, "height falls at {age}");
            last = h;
        }
        let at = |age: f64| body.weight_kg(age);
        assert!((at(17.99) - at(18.0)).abs() < 0.5, "no jump at 18");
        let h = body.height_cm(40.0) / 100.0;
        assert!((at(40.0) / (h * h) - body.adult_bmi).abs() < 1e-9);
        let v = body.vitals(40.0, true, &mut rng);
        assert!(v.systolic > v.diastolic && v.diastolic > 50);
    }
}
