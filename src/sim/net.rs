//! The virtual network: L2 segments joining host ports, each with its link behaviour
//! (delay, jitter, loss, duplication) drawn from per-link seeded streams, and partitions
//! that cut hosts apart. It decides the fate of each frame (dropped, or delivered after
//! which delays); the run loop holds the frames in flight.

use super::rng::Rng;
use super::scenario::LinkParams;
use std::collections::BTreeMap;
use std::time::Duration;

pub struct Net {
    seed: u64,
    params: BTreeMap<String, LinkParams>,
    /// host -> partition group; hosts absent from the map reach everyone.
    groups: BTreeMap<String, usize>,
    streams: BTreeMap<(String, String, String), Rng>,
}

impl Net {
    pub fn new(seed: u64, segments: impl IntoIterator<Item = (String, LinkParams)>) -> Net {
        Net {
            seed,
            params: segments.into_iter().collect(),
            groups: BTreeMap::new(),
            streams: BTreeMap::new(),
        }
    }

    pub fn params(&self, segment: &str) -> Option<&LinkParams> {
        self.params.get(segment)
    }

    pub fn params_mut(&mut self, segment: &str) -> Option<&mut LinkParams> {
        self.params.get_mut(segment)
    }

    /// `partition a b | c`: hosts in different groups no longer hear each other.
    pub fn partition(&mut self, groups: &[Vec<String>]) {
        self.groups.clear();
        for (i, g) in groups.iter().enumerate() {
            for h in g {
                self.groups.insert(h.clone(), i);
            }
        }
    }

    pub fn heal(&mut self) {
        self.groups.clear();
    }

    pub fn reachable(&self, a: &str, b: &str) -> bool {
        match (self.groups.get(a), self.groups.get(b)) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        }
    }

    /// Delays after which one frame from `from` reaches `to` on `segment`: empty if it is
    /// lost or cut off, two entries if duplicated.
    pub fn fate(&mut self, segment: &str, from: &str, to: &str) -> Vec<Duration> {
        if !self.reachable(from, to) {
            return Vec::new();
        }
        let p = match self.params.get(segment) {
            Some(p) => p.clone(),
            None => return Vec::new(),
        };
        if p.loss_ppm == 0 && p.dup_ppm == 0 && p.jitter.is_zero() {
            return vec![p.delay];
        }
        let seed = self.seed;
        let rng = self
            .streams
            .entry((segment.to_string(), from.to_string(), to.to_string()))
            .or_insert_with(|| Rng::stream(seed, &format!("link {segment} {from}>{to}")));
        if rng.chance_ppm(p.loss_ppm) {
            return Vec::new();
        }
        let jitter = |rng: &mut Rng| {
            let j = u64::try_from(p.jitter.as_nanos()).unwrap_or(u64::MAX);
            p.delay + Duration::from_nanos(rng.range(0, j))
        };
        let first = jitter(rng);
        if rng.chance_ppm(p.dup_ppm) {
            let second = jitter(rng);
            vec![first, second]
        } else {
            vec![first]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_and_faults_are_seeded() {
        let lp = LinkParams {
            delay: Duration::from_millis(1),
            jitter: Duration::from_millis(2),
            loss_ppm: 300_000,
            dup_ppm: 100_000,
        };
        let mut a = Net::new(9, [("lan".to_string(), lp.clone())]);
        let mut b = Net::new(9, [("lan".to_string(), lp)]);
        let fa: Vec<_> = (0..200).map(|_| a.fate("lan", "r1", "r2")).collect();
        let fb: Vec<_> = (0..200).map(|_| b.fate("lan", "r1", "r2")).collect();
        assert_eq!(fa, fb);
        let lost = fa.iter().filter(|f| f.is_empty()).count();
        assert!((30..90).contains(&lost), "lost {lost}");
        assert!(fa.iter().any(|f| f.len() == 2));
        assert!(fa
            .iter()
            .flatten()
            .all(|d| *d >= Duration::from_millis(1) && *d <= Duration::from_millis(3)));
        a.partition(&[vec!["r1".into()], vec!["r2".into(), "r3".into()]]);
        assert!(a.fate("lan", "r1", "r2").is_empty());
        assert!(a.reachable("r2", "r3"));
        assert!(a.reachable("r1", "r4"));
        a.heal();
        assert!(a.reachable("r1", "r2"));
    }
}
