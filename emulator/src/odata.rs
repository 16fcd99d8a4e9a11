//! The OData subset Aspire's list endpoints need (reference 2.9): `$filter` (comparisons with
//! `eq ne gt ge lt le`, `and`, `or`, `not`, parentheses), `$orderby`, `$skip`, `$top`, `$select`,
//! `$pageNumber`/`$limit`. `$expand` is ignored.

use crate::http::Req;
use serde_json::Value;
use std::cmp::Ordering;

/// Assumption (UNCONFIRMED, one third party: "$top caps at 1000"): larger values are capped,
/// and a request without `$top` returns at most this many records.
pub(crate) const MAX_TOP: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Str(String),
    Word(String),
}

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '\'' => {
                let mut v = String::new();
                i += 1;
                loop {
                    let ch = *chars.get(i)?;
                    if ch == '\'' {
                        if chars.get(i + 1) == Some(&'\'') {
                            v.push('\'');
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    v.push(ch);
                    i += 1;
                }
                out.push(Tok::Str(v));
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(chars[i], '(' | ')' | ',' | '\'')
                {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Some(out)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    /// An unquoted value that is not a number, e.g. a date-time literal.
    Raw(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp(String, Op, Lit),
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Word(x)) if x == w)
    }
    /// `next (word next)*`, joined from the left.
    fn chain(
        &mut self,
        word: &str,
        next: fn(&mut Self) -> Option<Expr>,
        join: fn(Box<Expr>, Box<Expr>) -> Expr,
    ) -> Option<Expr> {
        let mut left = next(self)?;
        while self.peek_word(word) {
            self.pos += 1;
            left = join(Box::new(left), Box::new(next(self)?));
        }
        Some(left)
    }
    fn or(&mut self) -> Option<Expr> {
        self.chain("or", Self::and, Expr::Or)
    }
    fn and(&mut self) -> Option<Expr> {
        self.chain("and", Self::unary, Expr::And)
    }
    fn unary(&mut self) -> Option<Expr> {
        if self.peek_word("not") {
            self.pos += 1;
            return Some(Expr::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }
    fn primary(&mut self) -> Option<Expr> {
        match self.toks.get(self.pos)?.clone() {
            Tok::LParen => {
                self.pos += 1;
                let e = self.or()?;
                if self.toks.get(self.pos) != Some(&Tok::RParen) {
                    return None;
                }
                self.pos += 1;
                Some(e)
            }
            Tok::Word(field) => {
                // OData operators are lower case ("OData is case-sensitive").
                let op = match self.toks.get(self.pos + 1)? {
                    Tok::Word(w) => match w.as_str() {
                        "eq" => Op::Eq,
                        "ne" => Op::Ne,
                        "gt" => Op::Gt,
                        "ge" => Op::Ge,
                        "lt" => Op::Lt,
                        "le" => Op::Le,
                        _ => return None,
                    },
                    _ => return None,
                };
                let lit = match self.toks.get(self.pos + 2)? {
                    Tok::Str(s) => Lit::Str(s.clone()),
                    Tok::Word(w) => match w.as_str() {
                        "true" => Lit::Bool(true),
                        "false" => Lit::Bool(false),
                        "null" => Lit::Null,
                        _ => w
                            .parse::<f64>()
                            .map(Lit::Num)
                            .unwrap_or_else(|_| Lit::Raw(w.clone())),
                    },
                    _ => return None,
                };
                self.pos += 3;
                Some(Expr::Cmp(field, op, lit))
            }
            _ => None,
        }
    }
}

/// Parses a `$filter`; `None` when it uses something outside the supported subset.
fn parse_filter(s: &str) -> Option<Expr> {
    let mut p = Parser {
        toks: tokenize(s)?,
        pos: 0,
    };
    let e = p.or()?;
    (p.pos == p.toks.len()).then_some(e)
}

fn field<'a>(item: &'a Value, path: &str) -> &'a Value {
    path.split('/')
        .fold(item, |v, k| v.get(k).unwrap_or(&Value::Null))
}

fn compare(v: &Value, lit: &Lit) -> Option<Ordering> {
    match (v, lit) {
        (Value::String(s), Lit::Str(l) | Lit::Raw(l)) => Some(s.as_str().cmp(l.as_str())),
        (Value::Number(n), Lit::Num(l)) => n.as_f64()?.partial_cmp(l),
        (Value::Number(n), Lit::Raw(l) | Lit::Str(l)) => {
            n.as_f64()?.partial_cmp(&l.parse::<f64>().ok()?)
        }
        (Value::Bool(b), Lit::Bool(l)) => Some(b.cmp(l)),
        (Value::Null, Lit::Null) => Some(Ordering::Equal),
        _ => None,
    }
}

fn eval(e: &Expr, item: &Value) -> bool {
    match e {
        Expr::And(a, b) => eval(a, item) && eval(b, item),
        Expr::Or(a, b) => eval(a, item) || eval(b, item),
        Expr::Not(a) => !eval(a, item),
        Expr::Cmp(f, op, lit) => match compare(field(item, f), lit) {
            Some(o) => match op {
                Op::Eq => o == Ordering::Equal,
                Op::Ne => o != Ordering::Equal,
                Op::Gt => o == Ordering::Greater,
                Op::Ge => o != Ordering::Less,
                Op::Lt => o == Ordering::Less,
                Op::Le => o != Ordering::Greater,
            },
            None => *op == Op::Ne,
        },
    }
}

pub(crate) fn order_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&y.as_f64().unwrap_or(0.0))
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

/// Sorts by each `(field, descending)` key in turn, comparing a field of two items with `cmp`.
pub(crate) fn sort_by_keys(
    items: &mut [&Value],
    keys: &[(String, bool)],
    cmp: impl Fn(&Value, &Value, &str) -> Ordering,
) {
    items.sort_by(|a, b| {
        keys.iter()
            .map(|(f, desc)| {
                let o = cmp(a, b, f);
                if *desc { o.reverse() } else { o }
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    });
}

fn parse_count(req: &Req, key: &str) -> Result<Option<usize>, String> {
    match req.q_ci(key) {
        None => Ok(None),
        Some(v) => v.trim().parse::<usize>().map(Some).map_err(|_| {
            format!("The query specified in the URI is not valid. Invalid value '{v}' for {key}.")
        }),
    }
}

/// Applies the OData query options of `req` to `items`.
pub(crate) fn apply(items: &[Value], req: &Req) -> Result<Vec<Value>, String> {
    let top = parse_count(req, "$top")?;
    let skip = parse_count(req, "$skip")?.unwrap_or(0);
    let page_number = parse_count(req, "$pageNumber")?;
    let limit = parse_count(req, "$limit")?;

    let mut out: Vec<&Value> = match req.q("$filter").filter(|f| !f.trim().is_empty()) {
        // Assumption: a filter outside the supported subset is ignored (all records returned)
        // rather than refused, so clients still see data.
        Some(f) => match parse_filter(f) {
            Some(expr) => items.iter().filter(|i| eval(&expr, i)).collect(),
            None => items.iter().collect(),
        },
        None => items.iter().collect(),
    };

    if let Some(ob) = req.q("$orderby").filter(|o| !o.trim().is_empty()) {
        let keys: Vec<(String, bool)> = ob
            .split(',')
            .filter_map(|part| {
                let mut words = part.split_whitespace();
                let f = words.next()?.to_string();
                let desc = words.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"));
                Some((f, desc))
            })
            .collect();
        sort_by_keys(&mut out, &keys, |a, b, f| {
            order_values(field(a, f), field(b, f))
        });
    }

    // Assumption (UNCONFIRMED semantics): $pageNumber is 1-based and $limit is the page size;
    // when either is present they page after $skip/$top have been applied.
    let mut out: Vec<&Value> = out
        .into_iter()
        .skip(skip)
        .take(top.unwrap_or(MAX_TOP).min(MAX_TOP))
        .collect();
    if page_number.is_some() || limit.is_some() {
        let size = limit.unwrap_or(MAX_TOP).clamp(1, MAX_TOP);
        let page = page_number.unwrap_or(1).max(1);
        out = out.into_iter().skip((page - 1) * size).take(size).collect();
    }

    let select: Option<Vec<&str>> = req
        .q("$select")
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.split(',').map(str::trim).collect());
    Ok(out
        .into_iter()
        .map(|v| match (&select, v) {
            (Some(fields), Value::Object(m)) => Value::Object(
                m.iter()
                    .filter(|(k, _)| fields.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            _ => v.clone(),
        })
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters() {
        let items = [
            json!({"ID": 1, "Name": "O'Brien", "Active": true, "Date": "2024-01-02T00:00:00Z"}),
            json!({"ID": 2, "Name": "Smith", "Active": false, "Date": "2024-03-02T00:00:00Z"}),
            json!({"ID": 3, "Name": "Jones", "Active": true, "Date": null}),
        ];
        let run = |f: &str| -> Vec<i64> {
            let e = parse_filter(f).unwrap();
            items
                .iter()
                .filter(|i| eval(&e, i))
                .map(|i| i["ID"].as_i64().unwrap())
                .collect()
        };
        assert_eq!(run("Active eq true"), vec![1, 3]);
        assert_eq!(run("Name eq 'O''Brien'"), vec![1]);
        assert_eq!(run("(Active eq true) and (ID gt 1)"), vec![3]);
        assert_eq!(run("ID eq 1 or ID eq 2"), vec![1, 2]);
        assert_eq!(run("Date gt 2024-02-01T00:00:00Z"), vec![2]);
        assert_eq!(run("Date eq null"), vec![3]);
        assert_eq!(run("not (Active eq true)"), vec![2]);
        assert!(parse_filter("contains(Name,'x')").is_none());
        assert!(parse_filter("Active Eq true").is_none());
    }
}
