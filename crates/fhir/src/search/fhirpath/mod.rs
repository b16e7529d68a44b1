//! The subset of FHIRPath that the R4 search parameter definitions use, evaluated over
//! `serde_json::Value` to collect the values a search parameter indexes.
//!
//! Expressions are compiled once (see the registry) and then evaluated on every write, so the
//! evaluator borrows from the resource and the compiled expression and allocates only the
//! collections it walks.

mod eval;
mod parse;

pub use eval::{evaluate, Item};
pub use parse::parse;

/// A compiled expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A path: where it starts, then the steps applied one after the other.
    Path {
        start: Start,
        steps: Vec<Step>,
    },
    /// `a | b`: every item of each branch.
    Union(Vec<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    /// `a = b` (`equal`) or `a != b`.
    Compare {
        left: Box<Expr>,
        right: Box<Expr>,
        equal: bool,
    },
    Literal(Literal),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// A leading type name such as `Patient`: the resource itself when it is of that type.
    Type(String),
    /// The focus (`$this`, or the implicit focus of a name inside `where(...)`).
    This,
    /// A parenthesised expression.
    Group(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `.name`; for a choice element `value` this also finds `valueQuantity` etc.
    Child(String),
    /// `[n]`
    Index(usize),
    Where(Box<Expr>),
    /// Only meaningful before `is T`: yields the type the reference points to.
    Resolve,
    First,
    Exists,
    Empty,
    Not,
    /// `extension('url')`: the extensions with that url.
    Extension(String),
    HasExtension(String),
    /// `as T`, `as(T)`, `ofType(T)`: keep the items of type T.
    As(String),
    /// `is T`, `is(T)`: whether the (single) item is of type T.
    Is(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    String(String),
    Number(f64),
    Bool(bool),
}

impl Expr {
    /// The type name the expression's leftmost path starts from, if it starts from one.
    fn root_type(&self) -> Option<&str> {
        match self {
            Expr::Path {
                start: Start::Type(t),
                ..
            } => Some(t),
            Expr::Path {
                start: Start::Group(inner),
                ..
            } => inner.root_type(),
            Expr::Union(branches) => branches.first().and_then(Expr::root_type),
            Expr::And(l, _) | Expr::Or(l, _) => l.root_type(),
            Expr::Compare { left, .. } => left.root_type(),
            _ => None,
        }
    }

    /// When every branch ends in `.where(resolve() is T)`: those types `T`.
    pub fn resolved_types(&self) -> Option<Vec<&str>> {
        match self {
            Expr::Union(branches) => {
                let mut all = Vec::new();
                for b in branches {
                    all.extend(b.resolved_types()?);
                }
                Some(all)
            }
            Expr::Path { steps, .. } => match steps.last()? {
                Step::Where(criteria) => match &**criteria {
                    Expr::Path {
                        start: Start::This,
                        steps,
                    } => match &steps[..] {
                        [Step::Resolve, Step::Is(t)] => Some(vec![t.as_str()]),
                        _ => None,
                    },
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
    }

    /// The expression as it applies to resources of type `resource_type`: shared definitions
    /// such as `Patient.name.family | Practitioner.name.family` keep only the branches that
    /// can match, so evaluation never walks the others. `None` when no branch applies.
    pub fn for_type(&self, resource_type: &str) -> Option<Expr> {
        match self {
            Expr::Union(branches) => {
                let mut kept: Vec<Expr> = branches
                    .iter()
                    .filter_map(|b| b.for_type(resource_type))
                    .collect();
                match kept.len() {
                    0 => None,
                    1 => kept.pop(),
                    _ => Some(Expr::Union(kept)),
                }
            }
            Expr::Path {
                start: Start::Group(inner),
                steps,
            } => inner.for_type(resource_type).map(|inner| Expr::Path {
                start: Start::Group(Box::new(inner)),
                steps: steps.clone(),
            }),
            other => match other.root_type() {
                Some(t) if !applies_to(t, resource_type) => None,
                _ => Some(other.clone()),
            },
        }
    }
}

/// Whether a path starting at type name `root` applies to a resource of `resource_type`.
pub(crate) fn applies_to(root: &str, resource_type: &str) -> bool {
    root == resource_type || root == "Resource" || root == "DomainResource"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_definitions_keep_only_the_branches_of_the_type() {
        let e = parse("Patient.name.family | Practitioner.name.family").unwrap();
        assert_eq!(
            e.for_type("Practitioner").unwrap(),
            parse("Practitioner.name.family").unwrap()
        );
        assert!(e.for_type("Observation").is_none());
        let e = parse("(A.value as Quantity) | (Observation.value as Range)").unwrap();
        assert_eq!(
            e.for_type("Observation").unwrap(),
            parse("(Observation.value as Range)").unwrap()
        );
        let e = parse("Resource.meta.tag").unwrap();
        assert!(e.for_type("Patient").is_some());
    }

    #[test]
    fn resolved_types_of_where_resolve_is() {
        let e = parse("A.subject.where(resolve() is Patient) | A.b.where(resolve() is Group)");
        assert_eq!(e.unwrap().resolved_types(), Some(vec!["Patient", "Group"]));
        let e = parse("A.subject.where(resolve() is Patient) | A.c").unwrap();
        assert_eq!(e.resolved_types(), None);
    }
}
