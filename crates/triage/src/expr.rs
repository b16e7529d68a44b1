//! The small condition language of protocol files (`if`, `ask_if`): names, numbers and
//! strings compared with `= != < <= > >=`, combined with `and`, `or`, `not` and parentheses.
//!
//! Evaluation is three-valued: a question not answered yet is unknown, so a rule fires only
//! when the answers so far make it true, and a question is skipped only when its `ask_if`
//! is known to be false.

use std::fmt;

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Name(String),
    Compare(String, Op, Literal),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Number(f64),
    Text(String),
}

/// What a name stands for while evaluating.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Number(f64),
    Text(String),
    /// Not answered (yet), or not measured.
    Unknown,
}

/// Three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

impl From<bool> for Truth {
    fn from(b: bool) -> Self {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl Expr {
    pub fn parse(source: &str) -> Result<Expr, ParseError> {
        let tokens = tokenize(source)?;
        let mut parser = Parser { tokens, at: 0 };
        let expr = parser.or()?;
        match parser.peek() {
            None => Ok(expr),
            Some(token) => Err(ParseError(format!("unexpected {token} in \"{source}\""))),
        }
    }

    /// Every name the condition mentions, to check them against the protocol.
    pub fn names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Name(n) | Expr::Compare(n, _, _) => out.push(n),
            Expr::Not(e) => e.collect(out),
            Expr::And(es) | Expr::Or(es) => es.iter().for_each(|e| e.collect(out)),
        }
    }

    /// Comparisons in the condition, to check literals against the question kinds.
    pub fn comparisons(&self) -> Vec<(&str, &Literal)> {
        let mut out = Vec::new();
        self.collect_comparisons(&mut out);
        out
    }

    fn collect_comparisons<'a>(&'a self, out: &mut Vec<(&'a str, &'a Literal)>) {
        match self {
            Expr::Compare(n, _, lit) => out.push((n, lit)),
            Expr::Name(_) => {}
            Expr::Not(e) => e.collect_comparisons(out),
            Expr::And(es) | Expr::Or(es) => es.iter().for_each(|e| e.collect_comparisons(out)),
        }
    }

    pub fn eval(&self, lookup: &impl Fn(&str) -> Value) -> Truth {
        match self {
            Expr::Name(name) => match lookup(name) {
                Value::Bool(b) => b.into(),
                Value::Unknown => Truth::Unknown,
                // A bare number or text name is "known"; protocols compare those instead.
                Value::Number(_) | Value::Text(_) => Truth::True,
            },
            Expr::Compare(name, op, literal) => compare(&lookup(name), *op, literal),
            Expr::Not(e) => e.eval(lookup).not(),
            Expr::And(es) => {
                let mut out = Truth::True;
                for e in es {
                    match e.eval(lookup) {
                        Truth::False => return Truth::False,
                        Truth::Unknown => out = Truth::Unknown,
                        Truth::True => {}
                    }
                }
                out
            }
            Expr::Or(es) => {
                let mut out = Truth::False;
                for e in es {
                    match e.eval(lookup) {
                        Truth::True => return Truth::True,
                        Truth::Unknown => out = Truth::Unknown,
                        Truth::False => {}
                    }
                }
                out
            }
        }
    }
}

fn compare(value: &Value, op: Op, literal: &Literal) -> Truth {
    match (value, literal) {
        (Value::Unknown, _) => Truth::Unknown,
        (Value::Number(v), Literal::Number(l)) => match op {
            Op::Eq => (v == l).into(),
            Op::Ne => (v != l).into(),
            Op::Lt => (v < l).into(),
            Op::Le => (v <= l).into(),
            Op::Gt => (v > l).into(),
            Op::Ge => (v >= l).into(),
        },
        (Value::Text(v), Literal::Text(l)) => match op {
            Op::Eq => (v == l).into(),
            Op::Ne => (v != l).into(),
            _ => Truth::Unknown,
        },
        // Checked away when a protocol loads; unknown keeps a stray one harmless.
        _ => Truth::Unknown,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Number(f64),
    Text(String),
    Op(Op),
    And,
    Or,
    Not,
    Open,
    Close,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Name(n) => write!(f, "'{n}'"),
            Token::Number(n) => write!(f, "{n}"),
            Token::Text(t) => write!(f, "\"{t}\""),
            Token::Op(op) => write!(f, "{op:?}"),
            Token::And => f.write_str("'and'"),
            Token::Or => f.write_str("'or'"),
            Token::Not => f.write_str("'not'"),
            Token::Open => f.write_str("'('"),
            Token::Close => f.write_str("')'"),
        }
    }
}

fn tokenize(source: &str) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = source.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            '=' => {
                tokens.push(Token::Op(Op::Eq));
                i += if chars.get(i + 1) == Some(&'=') { 2 } else { 1 };
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                tokens.push(Token::Op(Op::Ne));
                i += 2;
            }
            '<' | '>' => {
                let equal = chars.get(i + 1) == Some(&'=');
                tokens.push(Token::Op(match (c, equal) {
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    _ => Op::Ge,
                }));
                i += if equal { 2 } else { 1 };
            }
            '"' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '"')
                    .ok_or_else(|| ParseError(format!("unclosed string in \"{source}\"")))?;
                tokens.push(Token::Text(chars[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            c if c.is_ascii_digit() || c == '.' || c == '-' => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let number = text
                    .parse()
                    .map_err(|_| ParseError(format!("bad number {text} in \"{source}\"")))?;
                tokens.push(Token::Number(number));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                tokens.push(match word.as_str() {
                    "and" => Token::And,
                    "or" => Token::Or,
                    "not" => Token::Not,
                    _ => Token::Name(word),
                });
            }
            other => {
                return Err(ParseError(format!(
                    "unexpected character '{other}' in \"{source}\""
                )))
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut terms = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Or(terms)
        })
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut terms = vec![self.unary()?];
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            terms.push(self.unary()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::And(terms)
        })
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        match self.next() {
            Some(Token::Not) => Ok(Expr::Not(Box::new(self.unary()?))),
            Some(Token::Open) => {
                let inner = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    other => Err(ParseError(format!(
                        "expected ')' but found {}",
                        describe(other.as_ref())
                    ))),
                }
            }
            Some(Token::Name(name)) => match self.peek() {
                Some(Token::Op(op)) => {
                    let op = *op;
                    self.at += 1;
                    let literal = match self.next() {
                        Some(Token::Number(n)) => Literal::Number(n),
                        Some(Token::Text(t)) => Literal::Text(t),
                        other => {
                            return Err(ParseError(format!(
                                "expected a number or \"text\" after {name} {op:?}, found {}",
                                describe(other.as_ref())
                            )))
                        }
                    };
                    Ok(Expr::Compare(name, op, literal))
                }
                _ => Ok(Expr::Name(name)),
            },
            other => Err(ParseError(format!(
                "expected a name, 'not' or '(' but found {}",
                describe(other.as_ref())
            ))),
        }
    }
}

fn describe(token: Option<&Token>) -> String {
    token.map_or_else(|| "the end".to_string(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(source: &str, values: &[(&str, Value)]) -> Truth {
        let expr = Expr::parse(source).unwrap();
        expr.eval(&|name| {
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(Value::Unknown, |(_, v)| v.clone())
        })
    }

    #[test]
    fn precedence_and_parentheses() {
        let yes = Value::Bool(true);
        let no = Value::Bool(false);
        // and binds tighter than or
        assert_eq!(
            eval("a or b and c", &[("a", yes.clone()), ("b", no.clone())]),
            Truth::True
        );
        assert_eq!(
            eval("(a or b) and c", &[("a", yes.clone()), ("c", no.clone())]),
            Truth::False
        );
        assert_eq!(eval("not a", &[("a", no)]), Truth::True);
    }

    #[test]
    fn unknown_propagates_until_decided() {
        let yes = Value::Bool(true);
        assert_eq!(eval("a and b", &[("a", yes.clone())]), Truth::Unknown);
        assert_eq!(eval("a or b", &[("a", yes)]), Truth::True);
        assert_eq!(eval("not b", &[]), Truth::Unknown);
        assert_eq!(eval("b and x", &[("x", Value::Bool(false))]), Truth::False);
    }

    #[test]
    fn comparisons() {
        let t = [
            ("temperature", Value::Number(39.2)),
            ("duration", Value::Text("days".into())),
        ];
        assert_eq!(eval("temperature >= 39", &t), Truth::True);
        assert_eq!(eval("temperature < 38.5", &t), Truth::False);
        assert_eq!(eval("duration = \"days\"", &t), Truth::True);
        assert_eq!(eval("duration != \"days\"", &t), Truth::False);
        assert_eq!(eval("age < 0.25", &[]), Truth::Unknown);
        assert_eq!(eval("x >= -1", &[("x", Value::Number(0.0))]), Truth::True);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(Expr::parse("a and").unwrap_err().0.contains("the end"));
        assert!(Expr::parse("(a or b").unwrap_err().0.contains("')'"));
        assert!(Expr::parse("a = ").is_err());
        assert!(Expr::parse("a # b").unwrap_err().0.contains('#'));
        assert!(Expr::parse("x = \"open")
            .unwrap_err()
            .0
            .contains("unclosed"));
    }
}
