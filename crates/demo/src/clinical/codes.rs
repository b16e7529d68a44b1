//! The clinical vocabulary of the demo, as tables: chronic conditions with how common they
//! are by age and how they are treated, short illnesses, allergies, drugs and visit types.
//!
//! Codes are SNOMED CT (conditions, allergies, reactions, visit types) and RxNorm clinical
//! drugs; the French texts are what a French record would show next to the code.

use crate::workforce::Field;

pub struct Drug {
    pub rxnorm: &'static str,
    pub display: &'static str,
    pub fr: &'static str,
    /// Dosage text, English and French.
    pub dose: (&'static str, &'static str),
    /// Doses a day, or `None` when taken as needed.
    pub per_day: Option<u32>,
}

pub const LISINOPRIL: Drug = Drug {
    rxnorm: "314076",
    display: "Lisinopril 10 MG Oral Tablet",
    fr: "Lisinopril 10 mg, comprimé",
    dose: ("Take 1 tablet by mouth once daily", "1 comprimé par jour"),
    per_day: Some(1),
};
pub const AMLODIPINE: Drug = Drug {
    rxnorm: "197361",
    display: "Amlodipine 5 MG Oral Tablet",
    fr: "Amlodipine 5 mg, comprimé",
    dose: ("Take 1 tablet by mouth once daily", "1 comprimé par jour"),
    per_day: Some(1),
};
pub const METFORMIN: Drug = Drug {
    rxnorm: "860975",
    display: "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet",
    fr: "Metformine 500 mg LP, comprimé",
    dose: (
        "Take 1 tablet by mouth once daily with the evening meal",
        "1 comprimé le soir au cours du repas",
    ),
    per_day: Some(1),
};
pub const SIMVASTATIN: Drug = Drug {
    rxnorm: "312961",
    display: "Simvastatin 20 MG Oral Tablet",
    fr: "Simvastatine 20 mg, comprimé",
    dose: ("Take 1 tablet by mouth at bedtime", "1 comprimé le soir"),
    per_day: Some(1),
};
pub const ALBUTEROL: Drug = Drug {
    rxnorm: "745679",
    display: "200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler",
    fr: "Salbutamol, suspension pour inhalation en flacon pressurisé",
    dose: (
        "Inhale 2 puffs every 4 to 6 hours as needed for wheezing",
        "2 bouffées en cas de gêne respiratoire",
    ),
    per_day: None,
};
pub const FLUTICASONE: Drug = Drug {
    rxnorm: "895994",
    display: "120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler",
    fr: "Fluticasone, suspension pour inhalation en flacon pressurisé",
    dose: ("Inhale 2 puffs twice daily", "2 bouffées matin et soir"),
    per_day: Some(2),
};
pub const HYDROCORTISONE: Drug = Drug {
    rxnorm: "106258",
    display: "Hydrocortisone 10 MG/ML Topical Cream",
    fr: "Hydrocortisone 1 %, crème",
    dose: (
        "Apply a thin layer to the affected skin twice daily",
        "Appliquer une fine couche sur les lésions matin et soir",
    ),
    per_day: Some(2),
};
pub const LORATADINE: Drug = Drug {
    rxnorm: "665078",
    display: "Loratadine 5 MG Chewable Tablet",
    fr: "Loratadine 5 mg, comprimé à croquer",
    dose: ("Chew 1 tablet once daily", "1 comprimé à croquer par jour"),
    per_day: Some(1),
};
pub const ACETAMINOPHEN: Drug = Drug {
    rxnorm: "313782",
    display: "Acetaminophen 325 MG Oral Tablet",
    fr: "Paracétamol 325 mg, comprimé",
    dose: (
        "Take 2 tablets by mouth every 6 hours as needed for pain",
        "2 comprimés jusqu'à 4 fois par jour si douleur",
    ),
    per_day: None,
};
pub const AMOXICILLIN: Drug = Drug {
    rxnorm: "308182",
    display: "Amoxicillin 250 MG Oral Capsule",
    fr: "Amoxicilline 250 mg, gélule",
    dose: (
        "Take 1 capsule by mouth three times daily for 7 days",
        "1 gélule 3 fois par jour pendant 7 jours",
    ),
    per_day: Some(3),
};

/// Which condition a patient may have, used where a rule depends on one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Hypertension,
    Diabetes,
    Hyperlipidemia,
    Asthma,
    Dermatitis,
    Depression,
    Anxiety,
    Rhinitis,
    Osteoarthritis,
    Obesity,
}

pub struct Chronic {
    pub kind: Kind,
    pub snomed: &'static str,
    pub display: &'static str,
    pub fr: &'static str,
    /// Probability of having it, by age: the last band whose lower age is reached applies.
    pub prevalence: &'static [(i32, f64)],
    /// Treatments with the ages they suit: the first is always prescribed, the others
    /// are add-ons (one patient in three).
    pub treatments: &'static [(&'static Drug, i32, i32)],
    /// Who follows it up, and how often by video.
    pub follow_up: Field,
    pub virtual_share: f64,
    /// Vital signs taken at its follow-up visits in clinic.
    pub vitals_at_follow_up: bool,
}

pub const CHRONIC: &[Chronic] = &[
    Chronic {
        kind: Kind::Hypertension,
        snomed: "38341003",
        display: "Hypertension",
        fr: "Hypertension artérielle",
        prevalence: &[(0, 0.0), (18, 0.02), (30, 0.08), (45, 0.25), (65, 0.5)],
        treatments: &[(&LISINOPRIL, 18, 120), (&AMLODIPINE, 18, 120)],
        follow_up: Field::GeneralPractice,
        virtual_share: 0.3,
        vitals_at_follow_up: true,
    },
    Chronic {
        kind: Kind::Diabetes,
        snomed: "44054006",
        display: "Diabetes mellitus type 2",
        fr: "Diabète de type 2",
        prevalence: &[(0, 0.0), (25, 0.02), (35, 0.05), (45, 0.12), (65, 0.22)],
        treatments: &[(&METFORMIN, 18, 120)],
        follow_up: Field::GeneralPractice,
        virtual_share: 0.2,
        vitals_at_follow_up: true,
    },
    Chronic {
        kind: Kind::Hyperlipidemia,
        snomed: "55822004",
        display: "Hyperlipidemia",
        fr: "Hyperlipidémie",
        prevalence: &[(0, 0.0), (35, 0.08), (50, 0.2), (65, 0.3)],
        treatments: &[(&SIMVASTATIN, 18, 120)],
        follow_up: Field::GeneralPractice,
        virtual_share: 0.3,
        vitals_at_follow_up: true,
    },
    Chronic {
        kind: Kind::Asthma,
        snomed: "195967001",
        display: "Asthma",
        fr: "Asthme",
        prevalence: &[(0, 0.0), (4, 0.09), (18, 0.07)],
        treatments: &[(&ALBUTEROL, 4, 120), (&FLUTICASONE, 4, 120)],
        follow_up: Field::GeneralPractice,
        virtual_share: 0.2,
        vitals_at_follow_up: true,
    },
    Chronic {
        kind: Kind::Dermatitis,
        snomed: "24079001",
        display: "Atopic dermatitis",
        fr: "Dermatite atopique",
        prevalence: &[(0, 0.12), (12, 0.05), (18, 0.03)],
        treatments: &[(&HYDROCORTISONE, 0, 120)],
        follow_up: Field::Dermatology,
        virtual_share: 0.15,
        vitals_at_follow_up: false,
    },
    Chronic {
        kind: Kind::Depression,
        snomed: "35489007",
        display: "Depressive disorder",
        fr: "Trouble dépressif",
        prevalence: &[(0, 0.0), (14, 0.05), (18, 0.08)],
        treatments: &[],
        follow_up: Field::MentalHealth,
        virtual_share: 0.7,
        vitals_at_follow_up: false,
    },
    Chronic {
        kind: Kind::Anxiety,
        snomed: "197480006",
        display: "Anxiety disorder",
        fr: "Trouble anxieux",
        prevalence: &[(0, 0.0), (12, 0.05), (18, 0.07)],
        treatments: &[],
        follow_up: Field::MentalHealth,
        virtual_share: 0.7,
        vitals_at_follow_up: false,
    },
    Chronic {
        kind: Kind::Rhinitis,
        snomed: "232353008",
        display: "Perennial allergic rhinitis with seasonal variation",
        fr: "Rhinite allergique",
        prevalence: &[(0, 0.0), (4, 0.1)],
        treatments: &[(&LORATADINE, 4, 11)],
        follow_up: Field::GeneralPractice,
        virtual_share: 0.5,
        vitals_at_follow_up: false,
    },
    Chronic {
        kind: Kind::Osteoarthritis,
        snomed: "239873007",
        display: "Osteoarthritis of knee",
        fr: "Gonarthrose",
        prevalence: &[(0, 0.0), (50, 0.1), (65, 0.2)],
        treatments: &[(&ACETAMINOPHEN, 18, 120)],
        follow_up: Field::GeneralPractice,
        virtual_share: 0.1,
        vitals_at_follow_up: true,
    },
];

/// Recorded when an adult's body mass index is 30 or more (not drawn at random).
pub const OBESITY: Chronic = Chronic {
    kind: Kind::Obesity,
    snomed: "162864005",
    display: "Body mass index 30+ - obesity (finding)",
    fr: "Obésité",
    prevalence: &[],
    treatments: &[],
    follow_up: Field::GeneralPractice,
    virtual_share: 0.3,
    vitals_at_follow_up: true,
};

impl Chronic {
    pub fn prevalence_at(&self, age: i32) -> f64 {
        self.prevalence
            .iter()
            .rev()
            .find(|(from, _)| age >= *from)
            .map_or(0.0, |(_, p)| *p)
    }
}

/// A short illness seen at one visit and resolved within weeks.
pub struct Acute {
    pub snomed: &'static str,
    pub display: &'static str,
    pub fr: &'static str,
    pub ages: (i32, i32),
    pub weight: u32,
    /// Seen in clinic (an examination is needed), never by video.
    pub in_person: bool,
    /// An antibiotic, unless the patient is allergic to penicillin.
    pub antibiotic: Option<&'static Drug>,
}

pub const ACUTE: &[Acute] = &[
    Acute {
        snomed: "444814009",
        display: "Viral sinusitis (disorder)",
        fr: "Sinusite virale",
        ages: (5, 120),
        weight: 3,
        in_person: false,
        antibiotic: None,
    },
    Acute {
        snomed: "195662009",
        display: "Acute viral pharyngitis (disorder)",
        fr: "Pharyngite virale aiguë",
        ages: (3, 120),
        weight: 3,
        in_person: false,
        antibiotic: None,
    },
    Acute {
        snomed: "10509002",
        display: "Acute bronchitis (disorder)",
        fr: "Bronchite aiguë",
        ages: (5, 120),
        weight: 2,
        in_person: false,
        antibiotic: None,
    },
    Acute {
        snomed: "65363002",
        display: "Otitis media",
        fr: "Otite moyenne aiguë",
        ages: (0, 10),
        weight: 6,
        in_person: true,
        antibiotic: Some(&AMOXICILLIN),
    },
    Acute {
        snomed: "44465007",
        display: "Sprain of ankle",
        fr: "Entorse de la cheville",
        ages: (10, 70),
        weight: 1,
        in_person: true,
        antibiotic: None,
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllergyCategory {
    Food,
    Medication,
    Environment,
}

pub struct Allergy {
    pub snomed: &'static str,
    pub display: &'static str,
    pub fr: &'static str,
    pub category: AllergyCategory,
    pub criticality: &'static str,
    /// SNOMED code and display of the reaction, its French text, and its severity.
    pub reaction: (&'static str, &'static str, &'static str),
    pub severity: &'static str,
}

const HIVES: (&str, &str, &str) = ("247472004", "Hives", "Urticaire");
const SNEEZING: (&str, &str, &str) = ("76067001", "Sneezing", "Éternuements");
const ANAPHYLAXIS: (&str, &str, &str) = (
    "39579001",
    "Anaphylactic reaction",
    "Réaction anaphylactique",
);

pub const PENICILLIN_ALLERGY: &str = "91936005";

/// Allergies, weighted by how often they are seen.
pub const ALLERGIES: &[(u32, Allergy)] = &[
    (
        4,
        Allergy {
            snomed: PENICILLIN_ALLERGY,
            display: "Allergy to penicillin",
            fr: "Allergie à la pénicilline",
            category: AllergyCategory::Medication,
            criticality: "high",
            reaction: HIVES,
            severity: "moderate",
        },
    ),
    (
        2,
        Allergy {
            snomed: "91935009",
            display: "Allergy to peanuts",
            fr: "Allergie à l'arachide",
            category: AllergyCategory::Food,
            criticality: "high",
            reaction: ANAPHYLAXIS,
            severity: "severe",
        },
    ),
    (
        1,
        Allergy {
            snomed: "300913006",
            display: "Shellfish allergy",
            fr: "Allergie aux crustacés",
            category: AllergyCategory::Food,
            criticality: "high",
            reaction: HIVES,
            severity: "moderate",
        },
    ),
    (
        3,
        Allergy {
            snomed: "232350006",
            display: "House dust mite allergy",
            fr: "Allergie aux acariens",
            category: AllergyCategory::Environment,
            criticality: "low",
            reaction: SNEEZING,
            severity: "mild",
        },
    ),
    (
        3,
        Allergy {
            snomed: "418689008",
            display: "Allergy to grass pollen",
            fr: "Allergie aux pollens de graminées",
            category: AllergyCategory::Environment,
            criticality: "low",
            reaction: SNEEZING,
            severity: "mild",
        },
    ),
    (
        2,
        Allergy {
            snomed: "232347008",
            display: "Dander (animal) allergy",
            fr: "Allergie aux phanères d'animaux",
            category: AllergyCategory::Environment,
            criticality: "low",
            reaction: SNEEZING,
            severity: "mild",
        },
    ),
    (
        1,
        Allergy {
            snomed: "300916003",
            display: "Latex allergy",
            fr: "Allergie au latex",
            category: AllergyCategory::Environment,
            criticality: "low",
            reaction: HIVES,
            severity: "mild",
        },
    ),
];

/// SNOMED CT encounter types.
pub const CHECK_UP: (&str, &str, &str) = (
    "185349003",
    "Encounter for check up (procedure)",
    "Bilan de santé",
);
pub const WELL_CHILD: (&str, &str, &str) = (
    "410620009",
    "Well child visit (procedure)",
    "Consultation de suivi de l'enfant",
);
pub const PROBLEM: (&str, &str, &str) = (
    "185347001",
    "Encounter for problem (procedure)",
    "Consultation de suivi",
);
pub const SYMPTOM: (&str, &str, &str) = (
    "185345009",
    "Encounter for symptom (procedure)",
    "Consultation pour symptôme",
);
