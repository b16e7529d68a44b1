//! Page templates (minijinja), embedded in the binary and compiled once. Every template gets
//! `lang` and a `t("key")` function for its strings; HTML is escaped by default.

use std::sync::OnceLock;

use minijinja::{Environment, State, Value};

/// Every template, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("home.html", include_str!("../../templates/home.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("_form.html", include_str!("../../templates/_form.html")),
    ("signup.html", include_str!("../../templates/signup.html")),
    ("signin.html", include_str!("../../templates/signin.html")),
    ("notice.html", include_str!("../../templates/notice.html")),
    ("mailbox.html", include_str!("../../templates/mailbox.html")),
    ("totp.html", include_str!("../../templates/totp.html")),
    (
        "totp_enrol.html",
        include_str!("../../templates/totp_enrol.html"),
    ),
    ("forgot.html", include_str!("../../templates/forgot.html")),
    ("reset.html", include_str!("../../templates/reset.html")),
    (
        "dashboard.html",
        include_str!("../../templates/dashboard.html"),
    ),
    ("account.html", include_str!("../../templates/account.html")),
    (
        "admin_clinics.html",
        include_str!("../../templates/admin_clinics.html"),
    ),
    (
        "admin_practitioners.html",
        include_str!("../../templates/admin_practitioners.html"),
    ),
    (
        "admin_accounts.html",
        include_str!("../../templates/admin_accounts.html"),
    ),
    (
        "admin_audit.html",
        include_str!("../../templates/admin_audit.html"),
    ),
    ("book.html", include_str!("../../templates/book.html")),
    (
        "_book_results.html",
        include_str!("../../templates/_book_results.html"),
    ),
    (
        "book_slot.html",
        include_str!("../../templates/book_slot.html"),
    ),
    (
        "appointments.html",
        include_str!("../../templates/appointments.html"),
    ),
    (
        "appointment.html",
        include_str!("../../templates/appointment.html"),
    ),
    ("agenda.html", include_str!("../../templates/agenda.html")),
    (
        "clinic_list.html",
        include_str!("../../templates/clinic_list.html"),
    ),
    (
        "clinic_day.html",
        include_str!("../../templates/clinic_day.html"),
    ),
    (
        "admin_schedules.html",
        include_str!("../../templates/admin_schedules.html"),
    ),
    (
        "admin_schedule.html",
        include_str!("../../templates/admin_schedule.html"),
    ),
    (
        "admin_schedule_new.html",
        include_str!("../../templates/admin_schedule_new.html"),
    ),
    (
        "_booking.html",
        include_str!("../../templates/_booking.html"),
    ),
    ("_visit.html", include_str!("../../templates/_visit.html")),
    ("_triage.html", include_str!("../../templates/_triage.html")),
    (
        "triage_start.html",
        include_str!("../../templates/triage_start.html"),
    ),
    (
        "triage_question.html",
        include_str!("../../templates/triage_question.html"),
    ),
    (
        "triage_outcome.html",
        include_str!("../../templates/triage_outcome.html"),
    ),
    (
        "triage_review.html",
        include_str!("../../templates/triage_review.html"),
    ),
    (
        "triage_queue.html",
        include_str!("../../templates/triage_queue.html"),
    ),
    (
        "visit_note.html",
        include_str!("../../templates/visit_note.html"),
    ),
    (
        "visit_list.html",
        include_str!("../../templates/visit_list.html"),
    ),
    (
        "visit_summary.html",
        include_str!("../../templates/visit_summary.html"),
    ),
    (
        "ondemand_queue.html",
        include_str!("../../templates/ondemand_queue.html"),
    ),
    (
        "ondemand_status.html",
        include_str!("../../templates/ondemand_status.html"),
    ),
    (
        "messages_list.html",
        include_str!("../../templates/messages_list.html"),
    ),
    (
        "messages_inbox.html",
        include_str!("../../templates/messages_inbox.html"),
    ),
    (
        "_message_form.html",
        include_str!("../../templates/_message_form.html"),
    ),
    (
        "messages_new.html",
        include_str!("../../templates/messages_new.html"),
    ),
    (
        "messages_thread.html",
        include_str!("../../templates/messages_thread.html"),
    ),
    (
        "messages_times.html",
        include_str!("../../templates/messages_times.html"),
    ),
    ("visit.html", include_str!("../../templates/visit.html")),
    (
        "visit_invite.html",
        include_str!("../../templates/visit_invite.html"),
    ),
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            // Templates are part of the build and tested: a broken one is a bug.
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        env.add_function("t", |state: &State, key: &str| -> String {
            let lang = state.lookup("lang");
            let lang = lang.as_ref().and_then(Value::as_str).unwrap_or("en");
            super::i18n::translate(lang, key).into_owned()
        });
        env
    })
}

/// Render template `name` with `context` (which must hold `lang`).
pub fn render(name: &str, context: Value) -> Result<String, minijinja::Error> {
    environment().get_template(name)?.render(context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn every_template_compiles() {
        for (name, _) in TEMPLATES {
            environment().get_template(name).unwrap();
        }
    }

    #[test]
    fn pages_are_translated_and_escaped() {
        let fr = render("home.html", context! { lang => "fr" }).unwrap();
        assert!(fr.contains("<html lang=\"fr\">"));
        assert!(fr.contains("Bienvenue sur Carefront"));
        let page = render(
            "error.html",
            context! { lang => "en", title => "<script>x</script>", message => "m" },
        )
        .unwrap();
        assert!(!page.contains("<script>x"), "values are escaped");
        assert!(page.contains("&lt;script&gt;"));
    }
}
