//! OData query options as Graph reads them: `$top`, `$select`, `$filter`, `$expand`, `$count`,
//! `$skiptoken`, `$deltatoken`; and the opaque page and delta tokens the simulator hands out.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::errors::GraphResponse;

/// The query options of one request.
#[derive(Debug, Clone, Default)]
pub(crate) struct ODataQuery {
    pub top: Option<u32>,
    pub select: Option<Vec<String>>,
    pub filter: Option<(String, Filter)>,
    pub expand: Option<Vec<String>>,
    pub count: bool,
    pub skiptoken: Option<String>,
    pub deltatoken: Option<String>,
    pub orderby: Option<String>,
    pub search: Option<String>,
}

impl ODataQuery {
    /// Parse a raw query string. Unknown `$` options and malformed values get Graph's 400.
    pub(crate) fn parse(raw: &str) -> Result<Self, GraphResponse> {
        let mut q = ODataQuery::default();
        for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
            let key = k.to_ascii_lowercase();
            let key = key.strip_prefix('$').map(|k| format!("${k}")).unwrap_or(key);
            match key.as_str() {
                "$top" => {
                    let n: i64 = v.trim().parse().map_err(|_| {
                        GraphResponse::bad_request(
                            "BadRequest",
                            format!("Invalid value '{v}' for the query option '$top'. It must be a positive integer."),
                        )
                    })?;
                    q.top = Some(n.clamp(0, i64::from(u32::MAX)) as u32);
                    if n < 1 {
                        // Caught against the resource's range by the handler; keep the value's spelling.
                        q.top = Some(0);
                    }
                }
                "$select" => q.select = Some(split_list(&v)),
                "$expand" => q.expand = Some(split_list(&v)),
                "$filter" => {
                    let f = Filter::parse(&v).map_err(|e| {
                        GraphResponse::bad_request("Request_UnsupportedQuery", format!("Unsupported query: {e}"))
                    })?;
                    q.filter = Some((v.to_string(), f));
                }
                "$count" => {
                    q.count = match v.trim() {
                        "true" => true,
                        "false" => false,
                        other => {
                            return Err(GraphResponse::bad_request(
                                "BadRequest",
                                format!("Invalid value '{other}' for the query option '$count'."),
                            ));
                        }
                    }
                }
                "$skiptoken" => q.skiptoken = Some(v.to_string()),
                "$deltatoken" => q.deltatoken = Some(v.to_string()),
                "$orderby" => q.orderby = Some(v.to_string()),
                "$search" => q.search = Some(v.to_string()),
                k if k.starts_with('$') => {
                    return Err(GraphResponse::bad_request(
                        "BadRequest",
                        format!("Query option '{k}' is not supported or is not allowed on this request."),
                    ));
                }
                // Other parameters (api-version and the like) are ignored, as Graph ignores them.
                _ => {}
            }
        }
        Ok(q)
    }
}

fn split_list(v: &str) -> Vec<String> {
    v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

/// A parsed `$filter` expression: the forms a backup client needs (comparisons, `and`, `or`, `not`,
/// `in`, `startswith`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Compare { path: Vec<String>, op: Op, value: Value },
    In { path: Vec<String>, values: Vec<Value> },
    StartsWith { path: Vec<String>, prefix: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Lit(String),
    LParen,
    RParen,
    Comma,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            '\'' => {
                let mut lit = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated string literal".into()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            lit.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(c) => {
                            lit.push(*c);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(lit));
            }
            _ => {
                let start = i;
                while i < chars.len() && !matches!(chars[i], ' ' | '\t' | '(' | ')' | ',' | '\'') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let first = word.chars().next().unwrap_or(' ');
                if first.is_ascii_digit() || first == '-' {
                    out.push(Tok::Lit(word));
                } else {
                    out.push(Tok::Ident(word));
                }
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn expr(&mut self) -> Result<Filter, String> {
        let mut left = self.and_expr()?;
        while self.keyword("or") {
            self.pos += 1;
            let right = self.and_expr()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Filter, String> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, String> {
        if self.keyword("not") {
            self.pos += 1;
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.expr()?;
            if self.next() != Some(Tok::RParen) {
                return Err("expected ')'".into());
            }
            return Ok(e);
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Filter, String> {
        let Some(Tok::Ident(word)) = self.next() else { return Err("expected a property or function".into()) };
        if word.eq_ignore_ascii_case("startswith") {
            self.expect(Tok::LParen)?;
            let path = self.path()?;
            self.expect(Tok::Comma)?;
            let Some(Tok::Str(prefix)) = self.next() else { return Err("startswith needs a string".into()) };
            self.expect(Tok::RParen)?;
            return Ok(Filter::StartsWith { path, prefix });
        }
        if word.contains("any(") || word.ends_with("/any") || word.ends_with("/all") {
            return Err(format!("lambda operators are not supported here ('{word}')"));
        }
        let path: Vec<String> = word.split('/').map(String::from).collect();
        let Some(Tok::Ident(op)) = self.next() else { return Err(format!("expected an operator after '{word}'")) };
        let op = match op.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            "in" => {
                self.expect(Tok::LParen)?;
                let mut values = Vec::new();
                loop {
                    values.push(self.literal()?);
                    match self.next() {
                        Some(Tok::Comma) => continue,
                        Some(Tok::RParen) => break,
                        _ => return Err("expected ',' or ')' in an 'in' list".into()),
                    }
                }
                return Ok(Filter::In { path, values });
            }
            other => return Err(format!("unknown operator '{other}'")),
        };
        let value = self.literal()?;
        Ok(Filter::Compare { path, op, value })
    }

    fn path(&mut self) -> Result<Vec<String>, String> {
        match self.next() {
            Some(Tok::Ident(w)) => Ok(w.split('/').map(String::from).collect()),
            _ => Err("expected a property".into()),
        }
    }

    fn literal(&mut self) -> Result<Value, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Value::String(s)),
            Some(Tok::Lit(l)) => {
                if let Ok(n) = l.parse::<i64>() {
                    Ok(Value::from(n))
                } else if let Ok(f) = l.parse::<f64>() {
                    Ok(Value::from(f))
                } else {
                    // Unquoted date-times and GUIDs compare as strings.
                    Ok(Value::String(l))
                }
            }
            Some(Tok::Ident(w)) => match w.as_str() {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                "null" => Ok(Value::Null),
                _ => Ok(Value::String(w)),
            },
            _ => Err("expected a literal".into()),
        }
    }

    fn expect(&mut self, t: Tok) -> Result<(), String> {
        if self.next() == Some(t.clone()) { Ok(()) } else { Err(format!("expected {t:?}")) }
    }
}

impl Filter {
    pub(crate) fn parse(s: &str) -> Result<Filter, String> {
        let mut p = Parser { toks: tokenize(s)?, pos: 0 };
        let f = p.expr()?;
        if p.pos != p.toks.len() {
            return Err("unexpected text after the expression".into());
        }
        Ok(f)
    }

    /// The top-level properties the filter reads.
    pub(crate) fn properties(&self) -> Vec<&str> {
        match self {
            Filter::And(a, b) | Filter::Or(a, b) => {
                let mut v = a.properties();
                v.extend(b.properties());
                v
            }
            Filter::Not(a) => a.properties(),
            Filter::Compare { path, .. } | Filter::In { path, .. } | Filter::StartsWith { path, .. } => {
                path.first().map(|p| vec![p.as_str()]).unwrap_or_default()
            }
        }
    }

    pub(crate) fn matches(&self, obj: &serde_json::Map<String, Value>) -> bool {
        let get = |path: &[String]| -> Value {
            let mut cur = obj.get(&path[0]).cloned().unwrap_or(Value::Null);
            for p in &path[1..] {
                cur = cur.get(p).cloned().unwrap_or(Value::Null);
            }
            cur
        };
        match self {
            Filter::And(a, b) => a.matches(obj) && b.matches(obj),
            Filter::Or(a, b) => a.matches(obj) || b.matches(obj),
            Filter::Not(a) => !a.matches(obj),
            Filter::StartsWith { path, prefix } => {
                get(path).as_str().is_some_and(|s| s.to_lowercase().starts_with(&prefix.to_lowercase()))
            }
            Filter::In { path, values } => {
                let v = get(path);
                values.iter().any(|x| compare(&v, x) == Some(std::cmp::Ordering::Equal))
            }
            Filter::Compare { path, op, value } => {
                let v = get(path);
                let ord = compare(&v, value);
                match op {
                    Op::Eq => ord == Some(std::cmp::Ordering::Equal) || (v.is_null() && value.is_null()),
                    Op::Ne => ord != Some(std::cmp::Ordering::Equal) && !(v.is_null() && value.is_null()),
                    Op::Gt => ord == Some(std::cmp::Ordering::Greater),
                    Op::Ge => matches!(ord, Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)),
                    Op::Lt => ord == Some(std::cmp::Ordering::Less),
                    Op::Le => matches!(ord, Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)),
                }
            }
        }
    }
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => {
            // Date-times compare as instants (Graph writes them with varying fractions of a second).
            if let (Ok(tx), Ok(ty)) = (x.parse::<jiff::Timestamp>(), y.parse::<jiff::Timestamp>()) {
                return Some(tx.cmp(&ty));
            }
            Some(x.to_lowercase().cmp(&y.to_lowercase()))
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// The state behind an opaque `$skiptoken` or `$deltatoken`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub(crate) struct PageState {
    /// Where the token belongs: the request path it continues.
    pub p: String,
    /// The last id served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a: Option<String>,
    /// Page size.
    pub t: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s: Option<Vec<String>>,
    /// The `$filter` text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<Vec<String>>,
    /// Delta: changes after this sequence number are reported (0: the initial round).
    #[serde(default)]
    pub since: u64,
    /// Delta: the tenant's sequence number when the round started; the next deltaLink starts here.
    #[serde(default)]
    pub upto: u64,
    /// Token generation (bumped to expire every token) and issue time (unix seconds, sim clock).
    pub g: i64,
    pub i: i64,
}

impl PageState {
    pub(crate) fn encode(&self) -> String {
        // A fixed prefix so tokens look like Graph's and never start with a character that needs
        // escaping in a URL.
        format!("RFNwdAIAAQAAAB{}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default()))
    }

    pub(crate) fn decode(token: &str) -> Option<PageState> {
        let body = token.strip_prefix("RFNwdAIAAQAAAB")?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_what_a_backup_client_sends() {
        let q = ODataQuery::parse("$top=999&$select=id,displayName&$filter=createdDateTime%20ge%202026-01-01T00:00:00Z%20and%20createdDateTime%20lt%202026-01-02T00:00:00Z").unwrap();
        assert_eq!(q.top, Some(999));
        assert_eq!(q.select.unwrap(), vec!["id", "displayName"]);
        let (_, f) = q.filter.unwrap();
        assert!(f.matches(json!({"createdDateTime": "2026-01-01T10:00:00Z"}).as_object().unwrap()));
        assert!(!f.matches(json!({"createdDateTime": "2026-01-02T00:00:00.5Z"}).as_object().unwrap()));
    }

    #[test]
    fn filter_forms() {
        let obj = json!({"deviceId": "ABC", "n": 3, "a": {"b": "x'y"}});
        let o = obj.as_object().unwrap();
        assert!(Filter::parse("deviceId eq 'abc'").unwrap().matches(o));
        assert!(Filter::parse("n in (1, 3)").unwrap().matches(o));
        assert!(Filter::parse("not (n gt 3) and a/b eq 'x''y'").unwrap().matches(o));
        assert!(Filter::parse("startswith(deviceId,'ab') or n eq 9").unwrap().matches(o));
        assert!(Filter::parse("deviceId eq").is_err());
        assert!(Filter::parse("assignedLicenses/any(x:x/skuId eq 1)").is_err());
    }

    #[test]
    fn unknown_options_are_refused_and_tokens_round_trip() {
        assert_eq!(ODataQuery::parse("$foo=1").unwrap_err().status, 400);
        let st = PageState { p: "/users".into(), a: Some("x".into()), t: 5, g: 0, i: 9, ..Default::default() };
        let back = PageState::decode(&st.encode()).unwrap();
        assert_eq!(back.a.as_deref(), Some("x"));
        assert!(PageState::decode("garbage").is_none());
    }
}
