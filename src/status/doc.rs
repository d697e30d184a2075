//! A small document model for the live status (`keepalived-rs --status`): each section of
//! `super::live` builds [`Record`]s of named, typed fields, and the same records are
//! rendered as indented text for people ([`text`]) or as JSON for programs ([`json`]), so
//! the two forms always carry the same facts. Times stay typed until rendering: text shows
//! them as local dates, JSON as seconds since the epoch (as `keepalived.json` does).

use super::json::string as json_string;
use super::text::WallTime;
use std::fmt::Write as _;

/// One field's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A wall-clock time.
    Time(WallTime),
    List(Vec<Value>),
    Rec(Record),
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl From<Record> for Value {
    fn from(r: Record) -> Value {
        Value::Rec(r)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

macro_rules! ints {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Value {
                Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
    )*};
}
ints!(u8, u16, u32, u64, i32, i64, usize);

/// Named fields, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    pub fields: Vec<(&'static str, Value)>,
}

impl Record {
    pub fn new() -> Record {
        Record::default()
    }

    /// Adds a field (builder style).
    pub fn with(mut self, key: &'static str, value: impl Into<Value>) -> Record {
        self.fields.push((key, value.into()));
        self
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

/// A section: a JSON member holding a list of records, shown in text as one block per
/// record headed `TITLE NAME` (NAME: the record's `name` field).
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    pub key: &'static str,
    pub title: &'static str,
    pub records: Vec<Record>,
}

/// How text shows dates: the wall time's local form needs the time zone.
#[derive(Clone, Copy, Debug)]
pub struct TextStyle {
    pub utc_offset_secs: i64,
}

fn label(key: &str) -> String {
    key.replace('_', " ")
}

fn scalar_text(v: &Value, style: TextStyle) -> Option<String> {
    Some(match v {
        Value::Null => "-".to_string(),
        Value::Bool(b) => super::text::yn(*b).to_string(),
        Value::Int(n) => n.to_string(),
        Value::Float(x) => format!("{x}"),
        Value::Str(s) => s.clone(),
        Value::Time(t) => t.ctime(style.utc_offset_secs),
        Value::List(items) if items.iter().all(|i| !matches!(i, Value::Rec(_))) => {
            if items.is_empty() {
                "-".to_string()
            } else {
                items
                    .iter()
                    .filter_map(|i| scalar_text(i, style))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        }
        Value::List(_) | Value::Rec(_) => return None,
    })
}

/// The start of a line at `indent`; with `bullet`, the indentation ends in `- ` (the first
/// line of a list item).
fn line_start(out: &mut String, indent: usize, bullet: &mut bool) {
    if std::mem::take(bullet) {
        let _ = write!(out, "{:w$}- ", "", w = indent.saturating_sub(2));
    } else {
        let _ = write!(out, "{:indent$}", "");
    }
}

/// One record's fields as `label  value` lines at `indent`; nested records and lists of
/// records as indented blocks (list items marked `- `).
fn record_text(
    out: &mut String,
    r: &Record,
    indent: usize,
    style: TextStyle,
    skip: &str,
    mut bullet: bool,
) {
    let width = r
        .fields
        .iter()
        .filter(|(k, _)| *k != skip)
        .map(|(k, _)| k.len())
        .max()
        .unwrap_or(0);
    for (k, v) in &r.fields {
        if *k == skip {
            continue;
        }
        line_start(out, indent, &mut bullet);
        match scalar_text(v, style) {
            Some(s) => {
                let _ = writeln!(out, "{:<width$}  {s}", label(k));
            }
            None => {
                let _ = writeln!(out, "{}:", label(k));
                match v {
                    Value::Rec(inner) => record_text(out, inner, indent + 2, style, "", false),
                    Value::List(items) => {
                        for item in items {
                            if let Value::Rec(inner) = item {
                                record_text(out, inner, indent + 4, style, "", true);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Sections as text: a `TITLE NAME` line per record, its fields indented below, a blank
/// line between records.
pub fn text(sections: &[Section], style: TextStyle) -> String {
    let mut out = String::new();
    for s in sections {
        for r in &s.records {
            if !out.is_empty() {
                out.push('\n');
            }
            match r.get("name").and_then(|v| scalar_text(v, style)) {
                Some(name) => {
                    let _ = writeln!(out, "{} {name}", s.title);
                }
                None => {
                    let _ = writeln!(out, "{}", s.title);
                }
            }
            record_text(&mut out, r, 2, style, "name", false);
        }
    }
    out
}

fn value_json(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(super::text::tf(*b)),
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Float(x) if x.is_finite() => {
            let _ = write!(out, "{x}");
        }
        Value::Float(_) => out.push_str("null"),
        Value::Str(s) => out.push_str(&json_string(s)),
        Value::Time(t) => {
            let _ = write!(out, "{}", t.as_f64());
        }
        Value::List(items) => {
            out.push('[');
            for (k, i) in items.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                value_json(out, i);
            }
            out.push(']');
        }
        Value::Rec(r) => record_json(out, r),
    }
}

fn record_json(out: &mut String, r: &Record) {
    out.push('{');
    for (k, (key, v)) in r.fields.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        out.push_str(&json_string(key));
        out.push(':');
        value_json(out, v);
    }
    out.push('}');
}

/// A record (the header) and the sections as one JSON object: the header's fields, then
/// one member per section holding its records. One line and a newline.
pub fn json(header: &Record, sections: &[Section]) -> String {
    let mut top = header.clone();
    for s in sections {
        top.fields.push((
            s.key,
            Value::List(s.records.iter().cloned().map(Value::Rec).collect()),
        ));
    }
    let mut out = String::new();
    record_json(&mut out, &top);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Section> {
        vec![Section {
            key: "instances",
            title: "VRRP instance",
            records: vec![Record::new()
                .with("name", "VI_1")
                .with("state", "MASTER")
                .with("priority", 200u8)
                .with("master", Option::<String>::None)
                .with(
                    "vips",
                    Value::List(vec!["10.0.0.1/24".into(), "10.0.0.2".into()]),
                )
                .with(
                    "tracked",
                    Value::List(vec![Record::new()
                        .with("kind", "script")
                        .with("name", "chk \"x\"")
                        .with("fault", true)
                        .into()]),
                )
                .with(
                    "since",
                    Value::Time(WallTime {
                        secs: 3600,
                        micros: 5,
                    }),
                )],
        }]
    }

    #[test]
    fn text_blocks_are_headed_by_title_and_name() {
        let t = text(&sample(), TextStyle { utc_offset_secs: 0 });
        assert_eq!(
            t,
            "VRRP instance VI_1\n  state     MASTER\n  priority  200\n  master    -\n  \
             vips      10.0.0.1/24, 10.0.0.2\n  tracked:\n    - kind   script\n      \
             name   chk \"x\"\n      fault  yes\n  since     Thu Jan  1 01:00:00.000005 1970\n"
        );
    }

    #[test]
    fn json_has_the_same_fields_typed() {
        let header = Record::new().with("host", "r1");
        assert_eq!(
            json(&header, &sample()),
            "{\"host\":\"r1\",\"instances\":[{\"name\":\"VI_1\",\"state\":\"MASTER\",\
             \"priority\":200,\"master\":null,\"vips\":[\"10.0.0.1\\/24\",\"10.0.0.2\"],\
             \"tracked\":[{\"kind\":\"script\",\"name\":\"chk \\\"x\\\"\",\"fault\":true}],\
             \"since\":3600.000005}]}\n"
        );
    }
}
