//! `carefront account create`: an operator creates a staff account (patients sign up
//! themselves). The password is read from standard input so it stays out of the shell history
//! and the process list; the staff member enrols their authenticator at first sign-in.

use std::io::Read;

use carefront_auth::{EmailAddress, Password, Role};
use carefront_http::staff;
use clap::{Args, Subcommand};

use crate::config::{Config, ServeArgs};

#[derive(Subcommand)]
pub enum AccountCommand {
    /// Create a staff account (its email counts as confirmed; TOTP is set up at first sign-in).
    Create(CreateArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    /// practitioner, pharmacist, dispatcher, employer-admin or administrator
    #[arg(long)]
    role: String,
    #[arg(long)]
    email: String,
    /// The name shown in the pages, such as "Dr Grace Hopper"
    #[arg(long)]
    name: String,
    /// Read the password from standard input (its first line); required, so it never
    /// appears on the command line
    #[arg(long, required = true)]
    password_stdin: bool,
    /// Page language: en or fr
    #[arg(long, default_value = "en")]
    locale: String,
    #[command(flatten)]
    store: ServeArgs,
}

pub async fn run(cmd: AccountCommand) -> Result<(), String> {
    match cmd {
        AccountCommand::Create(args) => create(args).await,
    }
}

/// The first line of `input`, without its line ending (other spaces are part of a password).
fn first_line(input: &str) -> &str {
    let line = input.split('\n').next().unwrap_or("");
    line.strip_suffix('\r').unwrap_or(line)
}

async fn create(args: CreateArgs) -> Result<(), String> {
    let role = Role::parse(&args.role).map_err(|e| e.to_string())?;
    if role == Role::Patient {
        // Before reading the password: say so at once.
        return Err(staff::StaffError::PatientRole.to_string());
    }
    let email = EmailAddress::parse(&args.email).map_err(|e| e.to_string())?;
    let display_name = staff::display_name(&args.name)
        .ok_or("--name must be 1 to 200 characters without control characters")?;
    if !["en", "fr"].contains(&args.locale.as_str()) {
        return Err("--locale must be en or fr".into());
    }
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = Password::parse(first_line(&input), &email).map_err(|e| e.to_string())?;
    let config = Config::resolve(&args.store)?;
    let store = crate::serve::open_store(&config).await?;
    let new = staff::NewStaff {
        role,
        email,
        display_name,
        password,
        locale: args.locale,
        fhir_ref: None,
    };
    let account = staff::create(store.as_ref(), new)
        .await
        .map_err(|e| e.to_string())?;
    println!("account_id: {}", account.id);
    println!("role: {role}");
    eprintln!("The authenticator app is set up at the first sign-in.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::first_line;

    #[test]
    fn the_password_is_the_first_line_as_typed() {
        assert_eq!(first_line("  a pass phrase \n"), "  a pass phrase ");
        assert_eq!(first_line("secret\r\nrest"), "secret");
        assert_eq!(first_line("no newline"), "no newline");
    }
}
