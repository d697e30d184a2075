//! SNMP object identifiers: a list of sub-identifiers ordered lexicographically, as SNMP
//! orders its objects (a prefix comes before everything under it), so `Vec`'s own
//! ordering is the MIB's GetNext order.

use std::fmt;

/// The most sub-identifiers an OID may have (RFC 2578 §3.5; RFC 2741 §5.1 encodes the
/// count in one byte, but SNMP limits it to 128).
pub const MAX_SUBIDS: usize = 128;

/// An object identifier.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Oid(pub Vec<u32>);

impl Oid {
    pub fn new(subids: &[u32]) -> Oid {
        Oid(subids.to_vec())
    }

    /// The null OID (no sub-identifiers): an open end of a search range.
    pub fn null() -> Oid {
        Oid(Vec::new())
    }

    pub fn is_null(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `self` is `prefix` or lies under it.
    pub fn starts_with(&self, prefix: &Oid) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// This OID followed by `more`.
    pub fn child(&self, more: &[u32]) -> Oid {
        Oid::concat(&[&self.0, more])
    }

    /// The OID made of these parts, end to end (one allocation).
    pub fn concat(parts: &[&[u32]]) -> Oid {
        let mut v = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
        for p in parts {
            v.extend_from_slice(p);
        }
        Oid(v)
    }

    pub fn subids(&self) -> &[u32] {
        &self.0
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Oid {
    type Err = String;

    /// Dotted notation, with or without a leading dot: `1.3.6.1.2.1.68`.
    fn from_str(s: &str) -> Result<Oid, String> {
        let s = s.strip_prefix('.').unwrap_or(s);
        if s.is_empty() {
            return Ok(Oid::null());
        }
        let v: Result<Vec<u32>, _> = s.split('.').map(str::parse::<u32>).collect();
        match v {
            Ok(v) if v.len() <= MAX_SUBIDS => Ok(Oid(v)),
            Ok(_) => Err(format!("'{s}': more than {MAX_SUBIDS} sub-identifiers")),
            Err(_) => Err(format!("'{s}' is not a dotted OID")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_lexicographic_with_prefixes_first() {
        let a: Oid = "1.3.6.1.2.1.68".parse().unwrap();
        let b: Oid = "1.3.6.1.2.1.68.1".parse().unwrap();
        let c: Oid = "1.3.6.1.2.1.68.1.3.1.2.10.1".parse().unwrap();
        let d: Oid = "1.3.6.1.2.1.68.2".parse().unwrap();
        let e: Oid = "1.3.6.1.2.1.207".parse().unwrap();
        let mut v = vec![e.clone(), c.clone(), a.clone(), d.clone(), b.clone()];
        v.sort();
        assert_eq!(v, vec![a, b, c, d, e]);
        // 10 sorts after 9 (numerically, not textually).
        assert!(Oid::new(&[1, 9]) < Oid::new(&[1, 10]));
    }

    #[test]
    fn parse_and_display_round_trip() {
        let o: Oid = ".1.3.6.1.2.1.68.1.3.1.3.2.7".parse().unwrap();
        assert_eq!(o.to_string(), "1.3.6.1.2.1.68.1.3.1.3.2.7");
        assert!("1.x".parse::<Oid>().is_err());
        assert!(o.starts_with(&"1.3.6.1.2.1.68".parse().unwrap()));
        assert!(!o.starts_with(&"1.3.6.1.2.1.6".parse().unwrap()));
    }
}
