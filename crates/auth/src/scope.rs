//! SMART on FHIR scopes, as granted to OAuth2 clients: `context/Resource.permissions`, where
//! the context is `patient`, `user` or `system`, the resource a FHIR resource type or `*`, and
//! the permissions the v1 `read` / `write` / `*` or the v2 letters `cruds` (create, read,
//! update, delete, search, in that order).

use std::fmt;

use carefront_fhir::resource_types::is_resource_type;

use crate::access::Action;

/// Whose data a scope is about: one patient's (from a launch context), what the signed-in user
/// may see, or anything (a backend system acting for itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScopeContext {
    Patient,
    User,
    System,
}

impl ScopeContext {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeContext::Patient => "patient",
            ScopeContext::User => "user",
            ScopeContext::System => "system",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ScopeResource {
    /// `*`: every resource type.
    Any,
    /// One R4 resource type, such as `Patient`.
    Type(String),
}

impl ScopeResource {
    fn covers(&self, other: &ScopeResource) -> bool {
        match (self, other) {
            (ScopeResource::Any, _) => true,
            (ScopeResource::Type(a), ScopeResource::Type(b)) => a == b,
            (ScopeResource::Type(_), ScopeResource::Any) => false,
        }
    }

    fn matches(&self, resource_type: &str) -> bool {
        match self {
            ScopeResource::Any => true,
            ScopeResource::Type(t) => t == resource_type,
        }
    }
}

/// A set of SMART v2 permission letters; v1 scopes map onto it (`read` = `rs`, `write` =
/// `cud`, `*` = `cruds`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Permissions(u8);

impl Permissions {
    pub const CREATE: Permissions = Permissions(1);
    pub const READ: Permissions = Permissions(2);
    pub const UPDATE: Permissions = Permissions(4);
    pub const DELETE: Permissions = Permissions(8);
    pub const SEARCH: Permissions = Permissions(16);
    pub const NONE: Permissions = Permissions(0);
    pub const ALL: Permissions = Permissions(31);
    const LETTERS: [(char, Permissions); 5] = [
        ('c', Permissions::CREATE),
        ('r', Permissions::READ),
        ('u', Permissions::UPDATE),
        ('d', Permissions::DELETE),
        ('s', Permissions::SEARCH),
    ];

    pub const fn union(self, other: Permissions) -> Permissions {
        Permissions(self.0 | other.0)
    }

    pub const fn contains(self, other: Permissions) -> bool {
        self.0 & other.0 == other.0
    }

    /// What an interaction needs. History needs both `r` and `s`: an instance's history is a
    /// read of its versions, a type's history is a listing like a search, and the action does
    /// not say which.
    pub const fn required_for(action: Action) -> Permissions {
        match action {
            Action::Read => Permissions::READ,
            Action::Search => Permissions::SEARCH,
            Action::Create => Permissions::CREATE,
            Action::Update => Permissions::UPDATE,
            Action::Delete => Permissions::DELETE,
            Action::History => Permissions::READ.union(Permissions::SEARCH),
        }
    }
}

impl fmt::Debug for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let letters: String = Permissions::LETTERS
            .iter()
            .filter(|(_, p)| self.contains(*p))
            .map(|(c, _)| *c)
            .collect();
        write!(f, "Permissions({letters})")
    }
}

/// One parsed scope. Keeps the text it was parsed from, so it is echoed back as requested.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    context: ScopeContext,
    resource: ScopeResource,
    permissions: Permissions,
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid scope {scope:?}: {problem}")]
pub struct ScopeError {
    /// The offending scope (cut to 100 characters).
    pub scope: String,
    pub problem: ScopeProblem,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeProblem {
    #[error("it does not start with patient/, user/ or system/")]
    Context,
    #[error("{0:?} is not an R4 resource type or *")]
    ResourceType(String),
    #[error(
        "the permissions after the dot are not read, write, * or letters of cruds in that order"
    )]
    Permissions,
    // Refused rather than ignored: dropping a `?category=…` restriction would grant more than
    // was asked for.
    #[error("constraints after ? are not supported")]
    Constraints,
    #[error("it is longer than {max} characters")]
    TooLong { max: usize },
}

const MAX_SCOPE_LEN: usize = 100;

impl Scope {
    pub fn parse(text: &str) -> Result<Self, ScopeError> {
        let fail = |problem| ScopeError {
            scope: text.chars().take(MAX_SCOPE_LEN).collect(),
            problem,
        };
        if text.len() > MAX_SCOPE_LEN {
            return Err(fail(ScopeProblem::TooLong { max: MAX_SCOPE_LEN }));
        }
        let (context, rest) = text
            .split_once('/')
            .ok_or_else(|| fail(ScopeProblem::Context))?;
        let context = match context {
            "patient" => ScopeContext::Patient,
            "user" => ScopeContext::User,
            "system" => ScopeContext::System,
            _ => return Err(fail(ScopeProblem::Context)),
        };
        if rest.contains('?') {
            return Err(fail(ScopeProblem::Constraints));
        }
        let (resource, permissions) = rest
            .split_once('.')
            .ok_or_else(|| fail(ScopeProblem::Permissions))?;
        let resource = match resource {
            "*" => ScopeResource::Any,
            t if is_resource_type(t) => ScopeResource::Type(t.to_owned()),
            t => return Err(fail(ScopeProblem::ResourceType(t.to_owned()))),
        };
        let permissions =
            parse_permissions(permissions).ok_or_else(|| fail(ScopeProblem::Permissions))?;
        Ok(Self {
            context,
            resource,
            permissions,
            text: text.to_owned(),
        })
    }

    pub fn context(&self) -> ScopeContext {
        self.context
    }

    pub fn resource(&self) -> &ScopeResource {
        &self.resource
    }

    pub fn permissions(&self) -> Permissions {
        self.permissions
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn allows(&self, resource_type: &str, action: Action) -> bool {
        self.resource.matches(resource_type)
            && self.permissions.contains(Permissions::required_for(action))
    }
}

fn parse_permissions(s: &str) -> Option<Permissions> {
    match s {
        "read" => return Some(Permissions::READ.union(Permissions::SEARCH)),
        "write" => {
            return Some(
                Permissions::CREATE
                    .union(Permissions::UPDATE)
                    .union(Permissions::DELETE),
            )
        }
        "*" => return Some(Permissions::ALL),
        "" => return None,
        _ => {}
    }
    // v2: each letter at most once and in cruds order, so every set has one spelling.
    let mut next = 0;
    let mut perms = Permissions::NONE;
    for c in s.chars() {
        let i = Permissions::LETTERS[next..]
            .iter()
            .position(|(l, _)| *l == c)?
            + next;
        perms = perms.union(Permissions::LETTERS[i].1);
        next = i + 1;
    }
    Some(perms)
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The scopes of a client or a token, parsed from the space-separated OAuth2 `scope` form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    /// Parses space-separated scopes; an empty string is the empty set. Repeats are dropped.
    pub fn parse(text: &str) -> Result<Self, ScopeError> {
        let mut scopes: Vec<Scope> = Vec::new();
        for part in text.split_ascii_whitespace() {
            let scope = Scope::parse(part)?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        Ok(Self(scopes))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether some scope, in any context, grants `action` on `resource_type`. The context
    /// says *whose* resources; applying it is the access decision's job (see
    /// [`ScopeSet::allows_in`]).
    pub fn allows(&self, resource_type: &str, action: Action) -> bool {
        self.0.iter().any(|s| s.allows(resource_type, action))
    }

    /// Whether some scope of `context` grants `action` on `resource_type`.
    pub fn allows_in(&self, context: ScopeContext, resource_type: &str, action: Action) -> bool {
        self.0
            .iter()
            .any(|s| s.context == context && s.allows(resource_type, action))
    }

    /// Whether every permission `requested` asks for is granted here: a token request may only
    /// narrow what the client was registered with.
    pub fn covers(&self, requested: &ScopeSet) -> bool {
        requested.0.iter().all(|r| {
            Permissions::LETTERS
                .iter()
                .filter(|(_, p)| r.permissions.contains(*p))
                .all(|(_, p)| {
                    self.0.iter().any(|s| {
                        s.context == r.context
                            && s.resource.covers(&r.resource)
                            && s.permissions.contains(*p)
                    })
                })
        })
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(&s.text)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;

    fn scope(s: &str) -> Scope {
        Scope::parse(s).unwrap()
    }

    fn problem(s: &str) -> ScopeProblem {
        Scope::parse(s).unwrap_err().problem
    }

    #[test]
    fn v1_forms() {
        let s = scope("system/Patient.read");
        assert_eq!(s.context(), ScopeContext::System);
        assert_eq!(s.resource(), &ScopeResource::Type("Patient".into()));
        assert_eq!(
            s.permissions(),
            Permissions::READ.union(Permissions::SEARCH)
        );
        assert_eq!(scope("user/*.*").permissions(), Permissions::ALL);
        assert_eq!(scope("user/*.*").resource(), &ScopeResource::Any);
        assert_eq!(
            scope("patient/Observation.write").context(),
            ScopeContext::Patient
        );
        assert_eq!(
            scope("patient/Observation.write").permissions(),
            Permissions::CREATE
                .union(Permissions::UPDATE)
                .union(Permissions::DELETE)
        );
    }

    #[test]
    fn v2_letters() {
        assert_eq!(
            scope("system/Observation.rs").permissions(),
            Permissions::READ.union(Permissions::SEARCH)
        );
        assert_eq!(scope("system/*.cruds").permissions(), Permissions::ALL);
        assert_eq!(
            scope("user/Appointment.cu").permissions(),
            Permissions::CREATE.union(Permissions::UPDATE)
        );
        assert_eq!(scope("system/Patient.s").permissions(), Permissions::SEARCH);
    }

    #[test]
    fn errors_name_the_scope_and_the_problem() {
        assert_eq!(problem("Patient.read"), ScopeProblem::Context);
        assert_eq!(problem("admin/Patient.read"), ScopeProblem::Context);
        assert_eq!(problem("System/Patient.read"), ScopeProblem::Context);
        assert_eq!(
            problem("system/Patinet.read"),
            ScopeProblem::ResourceType("Patinet".into())
        );
        assert_eq!(
            problem("system/DomainResource.read"),
            ScopeProblem::ResourceType("DomainResource".into())
        );
        for bad in [
            "system/Patient",
            "system/Patient.",
            "system/Patient.sr",
            "system/Patient.rr",
            "system/Patient.readx",
            "system/Patient.x",
            "system/Patient.READ",
        ] {
            assert_eq!(problem(bad), ScopeProblem::Permissions, "{bad}");
        }
        assert_eq!(
            problem("system/Observation.rs?category=laboratory"),
            ScopeProblem::Constraints
        );
        let long = format!("system/Patient.read{}", "x".repeat(200));
        assert_eq!(problem(&long), ScopeProblem::TooLong { max: 100 });
        let err = ScopeSet::parse("system/Patient.read system/Patinet.read").unwrap_err();
        assert_eq!(err.scope, "system/Patinet.read");
        assert_eq!(
            err.to_string(),
            "invalid scope \"system/Patinet.read\": \"Patinet\" is not an R4 resource type or *"
        );
    }

    #[test]
    fn scope_set_allows() {
        let set = ScopeSet::parse("  system/Patient.read\tsystem/Observation.cu  ").unwrap();
        assert_eq!(set.to_string(), "system/Patient.read system/Observation.cu");
        assert!(set.allows("Patient", Read));
        assert!(set.allows("Patient", Search));
        assert!(set.allows("Patient", History));
        assert!(!set.allows("Patient", Update));
        assert!(set.allows("Observation", Create));
        assert!(set.allows("Observation", Update));
        assert!(!set.allows("Observation", Read));
        assert!(!set.allows("Observation", Delete));
        assert!(!set.allows("Encounter", Read));

        let any = ScopeSet::parse("system/*.*").unwrap();
        for action in [Read, Search, Create, Update, Delete, History] {
            assert!(any.allows("Encounter", action));
        }
        // v2 read without search: reads but no history (see Permissions::required_for).
        let r = ScopeSet::parse("system/Patient.r").unwrap();
        assert!(r.allows("Patient", Read));
        assert!(!r.allows("Patient", Search));
        assert!(!r.allows("Patient", History));

        assert!(ScopeSet::parse("").unwrap().is_empty());
        assert!(!ScopeSet::parse("").unwrap().allows("Patient", Read));
        assert_eq!(
            ScopeSet::parse("user/*.* user/*.*").unwrap().iter().count(),
            1
        );
    }

    #[test]
    fn allows_in_respects_the_context() {
        let set = ScopeSet::parse("patient/*.read system/Patient.read").unwrap();
        assert!(set.allows("Observation", Read));
        assert!(!set.allows_in(ScopeContext::System, "Observation", Read));
        assert!(set.allows_in(ScopeContext::System, "Patient", Read));
        assert!(set.allows_in(ScopeContext::Patient, "Observation", Read));
    }

    #[test]
    fn covers_only_narrower_requests() {
        let registered = ScopeSet::parse("system/Patient.read system/Observation.*").unwrap();
        let yes = |s: &str| assert!(registered.covers(&ScopeSet::parse(s).unwrap()), "{s}");
        let no = |s: &str| assert!(!registered.covers(&ScopeSet::parse(s).unwrap()), "{s}");
        yes("");
        yes("system/Patient.read");
        yes("system/Patient.rs");
        yes("system/Patient.s system/Observation.cd");
        no("system/Patient.cruds");
        no("system/Patient.write");
        no("system/*.read");
        no("user/Patient.read");
        no("system/Encounter.read");
        assert!(ScopeSet::parse("system/*.read")
            .unwrap()
            .covers(&ScopeSet::parse("system/Encounter.rs system/Patient.read").unwrap()));
    }
}
