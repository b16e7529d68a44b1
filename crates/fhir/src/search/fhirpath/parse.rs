//! Parsing FHIRPath text into an [`Expr`]. Anything outside the supported subset is an error
//! naming what is not supported, so a parameter using it is reported unsupported instead of
//! being indexed wrongly.

use super::{Expr, Literal, Start, Step};

/// Compile `text`. The error says what is not supported.
pub fn parse(text: &str) -> Result<Expr, String> {
    let tokens = lex(text)?;
    let mut p = Parser { tokens, pos: 0 };
    let expr = p.expr()?;
    match p.peek() {
        None => Ok(expr),
        Some(t) => Err(format!("unexpected {t:?}")),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Num(f64),
    /// `$this`, `%resource`, ...
    Var(String),
    Sym(&'static str),
}

fn lex(text: &str) -> Result<Vec<Token>, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'.' | b'(' | b')' | b'[' | b']' | b'|' | b'=' | b',' => {
                out.push(Token::Sym(match c {
                    b'.' => ".",
                    b'(' => "(",
                    b')' => ")",
                    b'[' => "[",
                    b']' => "]",
                    b'|' => "|",
                    b'=' => "=",
                    _ => ",",
                }));
                i += 1;
            }
            b'!' if bytes.get(i + 1) == Some(&b'=') => {
                out.push(Token::Sym("!="));
                i += 2;
            }
            b'\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return Err("unterminated string".into()),
                        Some(b'\'') => break,
                        Some(b'\\') => {
                            let escaped = *bytes.get(i + 1).ok_or("bad escape")?;
                            s.push(match escaped {
                                b'n' => '\n',
                                b't' => '\t',
                                b'r' => '\r',
                                other => other as char,
                            });
                            i += 2;
                        }
                        Some(_) => {
                            // Copy one whole UTF-8 character.
                            let ch = text[i..].chars().next().unwrap_or('\u{FFFD}');
                            s.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
                i += 1;
                out.push(Token::Str(s));
            }
            b'0'..=b'9' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                    i += 1;
                }
                let n = text[start..i].parse::<f64>().map_err(|e| e.to_string())?;
                out.push(Token::Num(n));
            }
            b'$' | b'%' => {
                let start = i;
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                out.push(Token::Var(text[start..i].to_owned()));
            }
            b'`' => {
                let end = text[i + 1..].find('`').ok_or("unterminated `identifier`")?;
                out.push(Token::Ident(text[i + 1..i + 1 + end].to_owned()));
                i += end + 2;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                out.push(Token::Ident(text[start..i].to_owned()));
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(format!("operator '{ch}' is not supported"));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn eat_sym(&mut self, sym: &str) -> bool {
        if matches!(self.peek(), Some(Token::Sym(s)) if *s == sym) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Ident(s)) if s == word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, sym: &str) -> Result<(), String> {
        if self.eat_sym(sym) {
            Ok(())
        } else {
            Err(format!("expected '{sym}', found {:?}", self.peek()))
        }
    }

    // Precedence, loosest first: or, and, = !=, |, is/as, path.
    fn expr(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.eat_keyword("or") {
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        for word in ["xor", "implies"] {
            if matches!(self.peek(), Some(Token::Ident(s)) if s == word) {
                return Err(format!("operator '{word}' is not supported"));
            }
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.equality()?;
        while self.eat_keyword("and") {
            let right = self.equality()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn equality(&mut self) -> Result<Expr, String> {
        let left = self.union()?;
        let equal = if self.eat_sym("=") {
            true
        } else if self.eat_sym("!=") {
            false
        } else {
            return Ok(left);
        };
        let right = self.union()?;
        Ok(Expr::Compare {
            left: Box::new(left),
            right: Box::new(right),
            equal,
        })
    }

    fn union(&mut self) -> Result<Expr, String> {
        let first = self.type_op()?;
        if !matches!(self.peek(), Some(Token::Sym("|"))) {
            return Ok(first);
        }
        let mut branches = vec![first];
        while self.eat_sym("|") {
            branches.push(self.type_op()?);
        }
        Ok(Expr::Union(branches))
    }

    /// `x is T` / `x as T`, appended as a step to the path `x`.
    fn type_op(&mut self) -> Result<Expr, String> {
        let mut expr = self.path()?;
        loop {
            let step = if self.eat_keyword("as") {
                Step::As(self.type_name()?)
            } else if self.eat_keyword("is") {
                Step::Is(self.type_name()?)
            } else {
                return Ok(expr);
            };
            expr = append_step(expr, step);
        }
    }

    fn type_name(&mut self) -> Result<String, String> {
        let Some(Token::Ident(mut name)) = self.next() else {
            return Err("expected a type name".into());
        };
        // `FHIR.Quantity`, `System.String`: the namespace does not matter here.
        if self.eat_sym(".") {
            let Some(Token::Ident(inner)) = self.next() else {
                return Err("expected a type name".into());
            };
            name = inner;
        }
        Ok(name)
    }

    fn path(&mut self) -> Result<Expr, String> {
        let (start, mut steps) = self.term()?;
        loop {
            if self.eat_sym(".") {
                let Some(Token::Ident(name)) = self.next() else {
                    return Err("expected a name after '.'".into());
                };
                steps.push(self.invocation(name)?);
            } else if self.eat_sym("[") {
                let Some(Token::Num(n)) = self.next() else {
                    return Err("only constant indexes are supported".into());
                };
                self.expect_sym("]")?;
                steps.push(Step::Index(n as usize));
            } else if steps.is_empty() {
                // `(expr)` and literals need no path around them.
                return Ok(match start {
                    Start::Group(inner) => *inner,
                    start => Expr::Path { start, steps },
                });
            } else {
                return Ok(Expr::Path { start, steps });
            }
        }
    }

    fn term(&mut self) -> Result<(Start, Vec<Step>), String> {
        match self.next() {
            Some(Token::Sym("(")) => {
                let inner = self.expr()?;
                self.expect_sym(")")?;
                Ok((Start::Group(Box::new(inner)), Vec::new()))
            }
            Some(Token::Str(s)) => Ok(literal(Literal::String(s))),
            Some(Token::Num(n)) => Ok(literal(Literal::Number(n))),
            Some(Token::Ident(w)) if w == "true" || w == "false" => {
                Ok(literal(Literal::Bool(w == "true")))
            }
            Some(Token::Var(v)) if v == "$this" => Ok((Start::This, Vec::new())),
            Some(Token::Var(v)) => Err(format!("variable {v} is not supported")),
            Some(Token::Ident(name)) => {
                let is_call = matches!(self.peek(), Some(Token::Sym("(")));
                if !is_call && name.starts_with(|c: char| c.is_ascii_uppercase()) {
                    Ok((Start::Type(name), Vec::new()))
                } else {
                    Ok((Start::This, vec![self.invocation(name)?]))
                }
            }
            other => Err(format!("unexpected {other:?}")),
        }
    }

    /// A member name or a function call (when followed by `(`).
    fn invocation(&mut self, name: String) -> Result<Step, String> {
        if !self.eat_sym("(") {
            return Ok(Step::Child(name));
        }
        let step = match name.as_str() {
            "where" => Step::Where(Box::new(self.expr()?)),
            "resolve" => Step::Resolve,
            "first" => Step::First,
            "exists" => Step::Exists,
            "empty" => Step::Empty,
            "not" => Step::Not,
            "extension" => Step::Extension(self.string_arg()?),
            "hasExtension" => Step::HasExtension(self.string_arg()?),
            "as" | "ofType" => Step::As(self.type_name()?),
            "is" => Step::Is(self.type_name()?),
            other => return Err(format!("function {other}() is not supported")),
        };
        self.expect_sym(")")?;
        Ok(step)
    }

    fn string_arg(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Token::Str(s)) => Ok(s),
            other => Err(format!("expected a string argument, found {other:?}")),
        }
    }
}

fn literal(l: Literal) -> (Start, Vec<Step>) {
    (Start::Group(Box::new(Expr::Literal(l))), Vec::new())
}

fn append_step(expr: Expr, step: Step) -> Expr {
    match expr {
        Expr::Path { start, mut steps } => {
            steps.push(step);
            Expr::Path { start, steps }
        }
        other => Expr::Path {
            start: Start::Group(Box::new(other)),
            steps: vec![step],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(start: Start, steps: Vec<Step>) -> Expr {
        Expr::Path { start, steps }
    }

    fn child(name: &str) -> Step {
        Step::Child(name.into())
    }

    #[test]
    fn parses_paths_unions_and_type_operators() {
        assert_eq!(
            parse("Patient.name.family").unwrap(),
            path(
                Start::Type("Patient".into()),
                vec![child("name"), child("family")]
            )
        );
        assert_eq!(
            parse("(Observation.value as Quantity) | Observation.value.as(Range)").unwrap(),
            Expr::Union(vec![
                path(
                    Start::Type("Observation".into()),
                    vec![child("value"), Step::As("Quantity".into())]
                ),
                path(
                    Start::Type("Observation".into()),
                    vec![child("value"), Step::As("Range".into())]
                ),
            ])
        );
    }

    #[test]
    fn parses_where_clauses() {
        let e = parse("Account.subject.where(resolve() is Patient)").unwrap();
        let criteria = path(Start::This, vec![Step::Resolve, Step::Is("Patient".into())]);
        assert_eq!(
            e,
            path(
                Start::Type("Account".into()),
                vec![child("subject"), Step::Where(Box::new(criteria))]
            )
        );
        let e = parse("Patient.telecom.where(system='email')").unwrap();
        let Expr::Path { steps, .. } = e else {
            panic!()
        };
        assert_eq!(
            steps[1],
            Step::Where(Box::new(Expr::Compare {
                left: Box::new(path(Start::This, vec![child("system")])),
                right: Box::new(Expr::Literal(Literal::String("email".into()))),
                equal: true,
            }))
        );
        assert!(parse("Patient.deceased.exists() and Patient.deceased != false").is_ok());
        assert!(parse("Bundle.entry[0].resource").is_ok());
    }

    #[test]
    fn rejects_what_it_does_not_support() {
        assert!(parse("Patient.name.select(family)").is_err());
        assert!(parse("%resource.id").is_err());
        assert!(parse("Patient.a + 1").is_err());
        assert!(parse("Patient.name.").is_err());
    }
}
