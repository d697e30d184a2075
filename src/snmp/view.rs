//! A MIB view: the objects a subagent serves at one instant, as a sorted list of
//! (instance OID, value), and the three read operations of RFC 2741 §7.2.3 over it — Get
//! (exact match, or noSuchObject / noSuchInstance), GetNext (the first object after the
//! start of a search range and before its end, or endOfMibView) and GetBulk (GetNext
//! repeated, §7.2.3.2).

use super::oid::Oid;
use super::wire::{SearchRange, Value, VarBind};

/// The most variable bindings one GetBulk answer carries (the master cuts the answer to
/// its own message size anyway).
pub const MAX_BULK: usize = 1024;

/// The objects served at one instant.
#[derive(Clone, Debug, Default)]
pub struct View {
    entries: Vec<(Oid, Value)>,
    /// The object types (scalars and columns, without instance suffix) the view
    /// implements: a Get under one of them that matches no instance is noSuchInstance.
    objects: Vec<Oid>,
}

impl View {
    /// A view of `entries` (in any order; a repeated OID keeps its first value).
    pub fn new(mut entries: Vec<(Oid, Value)>, mut objects: Vec<Oid>) -> View {
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.dedup_by(|b, a| a.0 == b.0);
        objects.sort();
        objects.dedup();
        View { entries, objects }
    }

    pub fn entries(&self) -> &[(Oid, Value)] {
        &self.entries
    }

    /// Get (§7.2.3.1).
    pub fn get(&self, oid: &Oid) -> Value {
        match self.entries.binary_search_by(|e| e.0.cmp(oid)) {
            Ok(i) => self.entries[i].1.clone(),
            Err(_) if self.objects.iter().any(|o| oid.starts_with(o)) => Value::NoSuchInstance,
            Err(_) => Value::NoSuchObject,
        }
    }

    /// GetNext (§7.2.3.2): the first object in the range, or endOfMibView named by the
    /// range's start.
    pub fn get_next(&self, r: &SearchRange) -> VarBind {
        let i = if r.include {
            self.entries.partition_point(|e| e.0 < r.start)
        } else {
            self.entries.partition_point(|e| e.0 <= r.start)
        };
        match self.entries.get(i) {
            Some((oid, v)) if r.end.is_null() || *oid < r.end => VarBind {
                name: oid.clone(),
                value: v.clone(),
            },
            _ => VarBind {
                name: r.start.clone(),
                value: Value::EndOfMibView,
            },
        }
    }

    /// GetBulk (§7.2.3.3): the first `non_repeaters` ranges once, then the others
    /// `max_repetitions` times each, every repetition starting after the previous answer;
    /// ends early when a whole repetition is endOfMibView, or at [`MAX_BULK`] bindings.
    pub fn get_bulk(
        &self,
        non_repeaters: u16,
        max_repetitions: u16,
        ranges: &[SearchRange],
    ) -> Vec<VarBind> {
        let n = usize::from(non_repeaters).min(ranges.len());
        let mut out: Vec<VarBind> = ranges[..n].iter().map(|r| self.get_next(r)).collect();
        let mut current: Vec<SearchRange> = ranges[n..].to_vec();
        if current.is_empty() {
            return out;
        }
        for _ in 0..max_repetitions {
            if out.len() + current.len() > MAX_BULK {
                break;
            }
            let mut all_end = true;
            for r in current.iter_mut() {
                let vb = self.get_next(r);
                if vb.value != Value::EndOfMibView {
                    all_end = false;
                    r.start = vb.name.clone();
                    r.include = false;
                }
                out.push(vb);
            }
            if all_end {
                break;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(s: &str) -> Oid {
        s.parse().unwrap()
    }

    fn range(start: &str, include: bool, end: &str) -> SearchRange {
        SearchRange {
            start: oid(start),
            include,
            end: oid(end),
        }
    }

    fn view() -> View {
        View::new(
            vec![
                (oid("1.3.6.1.2.1.68.1.3.1.3.2.1"), Value::Integer(3)),
                (oid("1.3.6.1.2.1.68.1.1.0"), Value::Integer(2)),
                (oid("1.3.6.1.2.1.68.1.3.1.3.2.2"), Value::Integer(2)),
                (oid("1.3.6.1.2.1.68.1.3.1.5.2.1"), Value::Integer(150)),
            ],
            vec![oid("1.3.6.1.2.1.68.1.1"), oid("1.3.6.1.2.1.68.1.3.1.3")],
        )
    }

    #[test]
    fn get_exact_or_the_right_exception() {
        let v = view();
        assert_eq!(v.get(&oid("1.3.6.1.2.1.68.1.1.0")), Value::Integer(2));
        assert_eq!(
            v.get(&oid("1.3.6.1.2.1.68.1.3.1.3.2.9")),
            Value::NoSuchInstance
        );
        assert_eq!(v.get(&oid("1.3.6.1.2.1.68.1.9.0")), Value::NoSuchObject);
    }

    #[test]
    fn get_next_walks_in_oid_order_and_respects_include_and_end() {
        let v = view();
        let mut at = range("1.3.6.1.2.1.68", false, "");
        let mut seen = Vec::new();
        loop {
            let vb = v.get_next(&at);
            if vb.value == Value::EndOfMibView {
                assert_eq!(vb.name, at.start);
                break;
            }
            seen.push(vb.name.to_string());
            at.start = vb.name;
        }
        assert_eq!(
            seen,
            [
                "1.3.6.1.2.1.68.1.1.0",
                "1.3.6.1.2.1.68.1.3.1.3.2.1",
                "1.3.6.1.2.1.68.1.3.1.3.2.2",
                "1.3.6.1.2.1.68.1.3.1.5.2.1"
            ]
        );
        // include: the start itself is an answer.
        let vb = v.get_next(&range("1.3.6.1.2.1.68.1.1.0", true, ""));
        assert_eq!(vb.name, oid("1.3.6.1.2.1.68.1.1.0"));
        // end is excluded.
        let vb = v.get_next(&range(
            "1.3.6.1.2.1.68.1.1.0",
            false,
            "1.3.6.1.2.1.68.1.3.1.3.2.1",
        ));
        assert_eq!(vb.value, Value::EndOfMibView);
    }

    #[test]
    fn get_bulk_repeats_and_stops_at_the_end_of_the_view() {
        let v = view();
        let ranges = [
            range("1.3.6.1.2.1.68.1.1", false, ""),
            range("1.3.6.1.2.1.68.1.3", false, ""),
        ];
        let out = v.get_bulk(1, 10, &ranges);
        let names: Vec<String> = out.iter().map(|b| b.name.to_string()).collect();
        assert_eq!(
            names,
            [
                "1.3.6.1.2.1.68.1.1.0",
                "1.3.6.1.2.1.68.1.3.1.3.2.1",
                "1.3.6.1.2.1.68.1.3.1.3.2.2",
                "1.3.6.1.2.1.68.1.3.1.5.2.1",
                "1.3.6.1.2.1.68.1.3.1.5.2.1",
            ]
        );
        assert_eq!(out[4].value, Value::EndOfMibView);
        // max_repetitions bounds the repeaters.
        assert_eq!(v.get_bulk(0, 2, &ranges).len(), 4);
    }
}
