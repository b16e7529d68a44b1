//! The concrete R4 resource types (from the base StructureDefinitions).

use std::collections::HashSet;
use std::sync::OnceLock;

const RESOURCE_TYPES: &str = include_str!("../data/resource-types.txt");

fn set() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| RESOURCE_TYPES.lines().filter(|l| !l.is_empty()).collect())
}

/// True when `name` is a concrete R4 resource type such as `Patient`.
pub fn is_resource_type(name: &str) -> bool {
    set().contains(name)
}

/// Every concrete R4 resource type, sorted.
pub fn all() -> impl Iterator<Item = &'static str> {
    RESOURCE_TYPES.lines().filter(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    #[test]
    fn knows_patient_but_not_made_up_types() {
        assert!(super::is_resource_type("Patient"));
        assert!(super::is_resource_type("Appointment"));
        assert!(!super::is_resource_type("Patients"));
        assert!(!super::is_resource_type("DomainResource"));
        assert_eq!(super::all().count(), 146);
    }
}
