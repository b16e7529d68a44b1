//! What an interaction was, from the method and the path alone (never the query string:
//! search parameters can carry names and birth dates).

use axum::http::Method;

/// Longest resource type or id kept: real ones are at most 64 characters, and a hostile
/// path must not bloat the log.
const MAX_PART: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interaction {
    /// `read`, `vread`, `update`, `patch`, `delete`, `create`, `search`, `history`,
    /// `transaction`, `batch`, `capabilities`, `operation`, or `unknown` (no such FHIR URL).
    pub action: &'static str,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
}

/// Classify a request to `path` (after the `/fhir` base, e.g. `Patient/1/_history/2`). A
/// Bundle posted to the base is a `batch` unless `bundle_type` says `transaction`.
pub fn classify(method: &Method, path: &str, bundle_type: Option<&str>) -> Interaction {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let part = |i: usize| -> Option<String> {
        parts
            .get(i)
            .filter(|p| !p.starts_with('$') && !p.starts_with('_'))
            .map(|p| p.chars().take(MAX_PART).collect())
    };
    // HEAD reads like GET.
    let get = method == Method::GET || method == Method::HEAD;
    let action = if parts.iter().any(|p| p.starts_with('$')) {
        "operation"
    } else {
        match (parts.as_slice(), method.as_str()) {
            ([], _) if get => "search",
            ([], "POST") if bundle_type == Some("transaction") => "transaction",
            ([], "POST") => "batch",
            (["metadata"], _) if get => "capabilities",
            (["_history"], _) if get => "history",
            (["_search"], "POST") => "search",
            ([t], _) if t.starts_with('_') => "unknown",
            ([_], _) if get => "search",
            ([_], "POST") => "create",
            ([_], "PUT") => "update",
            ([_], "PATCH") => "patch",
            ([_], "DELETE") => "delete",
            ([_, "_search"], "POST") => "search",
            ([_, "_history"], _) if get => "history",
            ([_, id], _) if id.starts_with('_') => "unknown",
            ([_, _], _) if get => "read",
            ([_, _], "PUT") => "update",
            ([_, _], "PATCH") => "patch",
            ([_, _], "DELETE") => "delete",
            ([_, _, "_history"], _) if get => "history",
            ([_, _, "_history", _], _) if get => "vread",
            _ => "unknown",
        }
    };
    Interaction {
        action,
        resource_type: part(0).filter(|_| action != "capabilities"),
        resource_id: part(1),
    }
}

/// The outcome recorded for an HTTP status.
pub fn outcome(status: u16) -> &'static str {
    match status {
        401 | 403 => "denied",
        404 | 410 => "not-found",
        400..=499 => "invalid",
        500.. => "error",
        _ => "success",
    }
}

/// Classify a request to the booking API (`path` after `/api/booking/`): what it reads or
/// writes, as the audit log names FHIR interactions (`appointments/{id}/cancel` is an
/// operation on that Appointment).
pub fn booking(method: &Method, path: &str) -> Interaction {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let resource_type = match parts.first().copied() {
        Some("slots") => "Slot",
        Some("schedules") => "Schedule",
        _ => "Appointment",
    };
    let get = method == Method::GET || method == Method::HEAD;
    let action = match (parts.len(), get) {
        (1, true) => "search",
        (1, false) if resource_type == "Appointment" => "create",
        (_, false) => "operation",
        (_, true) => "read",
    };
    Interaction {
        action,
        resource_type: Some(resource_type.to_owned()),
        resource_id: parts.get(1).map(|p| p.chars().take(MAX_PART).collect()),
    }
}

/// Classify a request to the triage API (`path` after `/api/triage/`): interviews are
/// QuestionnaireResponses (an answer updates one), outcomes RiskAssessments.
pub fn triage(method: &Method, path: &str) -> Interaction {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let get = method == Method::GET || method == Method::HEAD;
    let (action, resource_type) = match (parts.as_slice(), get) {
        (["interviews"], false) => ("create", Some("QuestionnaireResponse")),
        (["interviews", _], true) => ("read", Some("QuestionnaireResponse")),
        (["interviews", _, ..], false) => ("update", Some("QuestionnaireResponse")),
        (["queue"], _) => ("search", Some("RiskAssessment")),
        (["assessments", ..], _) => ("operation", Some("RiskAssessment")),
        _ => ("search", None),
    };
    Interaction {
        action,
        resource_type: resource_type.map(str::to_owned),
        resource_id: parts
            .get(1)
            .filter(|_| resource_type.is_some())
            .map(|p| p.chars().take(MAX_PART).collect()),
    }
}

/// Classify a request to the messaging API (`path` after `/api/messages/`): messages are
/// Communications (a thread is named by its first one), attachments Binaries.
pub fn messaging(method: &Method, path: &str) -> Interaction {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let get = method == Method::GET || method == Method::HEAD;
    let (action, resource_type, id) = match (parts.as_slice(), get) {
        (["threads"], false) => ("create", "Communication", None),
        (["threads", id], true) => ("read", "Communication", Some(*id)),
        (["threads", id, "messages"], false) => ("create", "Communication", Some(*id)),
        (["threads", _, "files", file], true) => ("read", "Binary", Some(*file)),
        _ => ("search", "Communication", None),
    };
    Interaction {
        action,
        resource_type: Some(resource_type.to_owned()),
        resource_id: id.map(|p| p.chars().take(MAX_PART).collect()),
    }
}

/// Classify a request to the on-demand API (`path` after `/api/ondemand/`): queue entries
/// are Encounters; taking the next patient makes an Appointment.
pub fn ondemand(method: &Method, path: &str) -> Interaction {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let (action, resource_type, id) = match parts.as_slice() {
        ["join"] => ("create", "Encounter", None),
        ["entries", id] => ("read", "Encounter", Some(*id)),
        ["entries", id, "leave"] => ("update", "Encounter", Some(*id)),
        ["take"] if method == Method::POST => ("create", "Appointment", None),
        _ => ("search", "Encounter", None),
    };
    Interaction {
        action,
        resource_type: Some(resource_type.to_owned()),
        resource_id: id.map(|p| p.chars().take(MAX_PART).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ondemand_names_encounters_and_the_visit_made() {
        let o = |method, path| {
            let i = ondemand(&method, path);
            (i.action, i.resource_type, i.resource_id)
        };
        assert_eq!(o(Method::POST, "join"), ("create", s("Encounter"), None));
        assert_eq!(
            o(Method::GET, "entries/e1"),
            ("read", s("Encounter"), s("e1"))
        );
        assert_eq!(
            o(Method::POST, "entries/e1/leave"),
            ("update", s("Encounter"), s("e1"))
        );
        assert_eq!(o(Method::POST, "take"), ("create", s("Appointment"), None));
        assert_eq!(o(Method::GET, "queue").0, "search");
    }

    fn c(method: Method, path: &str) -> (&'static str, Option<String>, Option<String>) {
        let i = classify(&method, path, None);
        (i.action, i.resource_type, i.resource_id)
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn actions_follow_the_fhir_url_grammar() {
        assert_eq!(c(Method::GET, "Patient/1"), ("read", s("Patient"), s("1")));
        assert_eq!(c(Method::HEAD, "Patient/1"), ("read", s("Patient"), s("1")));
        assert_eq!(
            c(Method::GET, "Patient/1/_history/2"),
            ("vread", s("Patient"), s("1"))
        );
        assert_eq!(c(Method::PUT, "Patient/1").0, "update");
        assert_eq!(c(Method::PATCH, "Patient/1").0, "patch");
        assert_eq!(c(Method::DELETE, "Patient/1").0, "delete");
        assert_eq!(c(Method::POST, "Patient"), ("create", s("Patient"), None));
        assert_eq!(c(Method::PUT, "Patient"), ("update", s("Patient"), None));
        assert_eq!(c(Method::GET, "Patient"), ("search", s("Patient"), None));
        assert_eq!(
            c(Method::POST, "Patient/_search"),
            ("search", s("Patient"), None)
        );
        assert_eq!(c(Method::GET, ""), ("search", None, None));
        assert_eq!(c(Method::POST, "_search"), ("search", None, None));
        assert_eq!(c(Method::GET, "_history"), ("history", None, None));
        assert_eq!(c(Method::GET, "Patient/_history").0, "history");
        assert_eq!(
            c(Method::GET, "Patient/1/_history"),
            ("history", s("Patient"), s("1"))
        );
        assert_eq!(c(Method::GET, "metadata"), ("capabilities", None, None));
        assert_eq!(c(Method::POST, ""), ("batch", None, None));
        assert_eq!(
            classify(&Method::POST, "/", Some("transaction")).action,
            "transaction"
        );
        assert_eq!(
            c(Method::GET, "Patient/1/$everything"),
            ("operation", s("Patient"), s("1"))
        );
        assert_eq!(c(Method::POST, "$reindex"), ("operation", None, None));
        assert_eq!(c(Method::POST, "Patient/1").0, "unknown");
        assert_eq!(c(Method::GET, "Patient/1/x/y/z").0, "unknown");
    }

    #[test]
    fn messaging_names_communications_and_binaries() {
        let m = |method, path| {
            let i = messaging(&method, path);
            (i.action, i.resource_type, i.resource_id)
        };
        assert_eq!(
            m(Method::GET, "threads"),
            ("search", s("Communication"), None)
        );
        assert_eq!(
            m(Method::POST, "threads"),
            ("create", s("Communication"), None)
        );
        assert_eq!(
            m(Method::GET, "threads/t1"),
            ("read", s("Communication"), s("t1"))
        );
        assert_eq!(
            m(Method::POST, "threads/t1/messages"),
            ("create", s("Communication"), s("t1"))
        );
        assert_eq!(
            m(Method::GET, "threads/t1/files/b1"),
            ("read", s("Binary"), s("b1"))
        );
        assert_eq!(m(Method::GET, "unread").0, "search");
    }

    #[test]
    fn outcomes_follow_the_status() {
        assert_eq!(outcome(200), "success");
        assert_eq!(outcome(304), "success");
        assert_eq!(outcome(401), "denied");
        assert_eq!(outcome(403), "denied");
        assert_eq!(outcome(404), "not-found");
        assert_eq!(outcome(410), "not-found");
        assert_eq!(outcome(422), "invalid");
        assert_eq!(outcome(503), "error");
    }
}
