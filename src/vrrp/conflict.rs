//! VRID conflict alarms (an extension of keepalived-rs): a Master that hears another
//! Master of its VRID (an advert of a priority lower than or equal to its own: a split
//! brain seen from the side that stays Master, or two routers of equal priority; a higher
//! priority is the ordinary end of a preemption and raises nothing), an advert for its
//! VRID with a different address list or advertisement interval, or — as the address owner
//! — another router claiming priority 255. Each kind is an *episode*: the first advert
//! that shows it raises one event (logged once, counted, a `CONFLICT` line on the notify
//! FIFO, the optional `notify_conflict` script, an `Action::Conflict` for the world); more
//! adverts showing it extend the episode; one that comes after a quiet spell of a
//! Master_Down_Interval (three advert intervals and the skew) starts a new one.

use crate::sched::Instant;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

/// What kind of conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConflictKind {
    /// Another Master of our VRID, with a priority <= ours, while we are Master.
    DualMaster,
    /// An advert whose address list differs from ours.
    AddressList,
    /// An advert whose advertisement interval differs from ours.
    Interval,
    /// We own the addresses (priority 255) and another router claims 255 too.
    Owner,
}

impl ConflictKind {
    pub const ALL: [ConflictKind; 4] = [
        ConflictKind::DualMaster,
        ConflictKind::AddressList,
        ConflictKind::Interval,
        ConflictKind::Owner,
    ];

    /// The word of FIFO lines, script arguments and traces.
    pub fn word(self) -> &'static str {
        match self {
            ConflictKind::DualMaster => "DUAL_MASTER",
            ConflictKind::AddressList => "ADDRESS_LIST",
            ConflictKind::Interval => "INTERVAL",
            ConflictKind::Owner => "OWNER",
        }
    }

    fn index(self) -> usize {
        match self {
            ConflictKind::DualMaster => 0,
            ConflictKind::AddressList => 1,
            ConflictKind::Interval => 2,
            ConflictKind::Owner => 3,
        }
    }
}

impl fmt::Display for ConflictKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// One kind's episode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Episode {
    /// When the current (or last) episode started and when it was last seen.
    pub since: Option<Instant>,
    pub last_seen: Option<Instant>,
    /// The router that showed it last.
    pub peer: Option<IpAddr>,
    /// Episodes raised so far.
    pub count: u64,
}

/// The conflict state of one instance: nothing (one pointer) until its first conflict,
/// so a thousand instances that never conflict pay 8 bytes each, not 256.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conflicts {
    episodes: Option<Box<[Episode; 4]>>,
}

/// What `episode` answers for a kind never seen.
const NO_EPISODE: Episode = Episode {
    since: None,
    last_seen: None,
    peer: None,
    count: 0,
};

impl Conflicts {
    /// `kind` was seen at `now` from `peer`; an episode ends after `quiet` without it.
    /// Returns true when this starts a new episode (the caller raises the event).
    pub fn seen(
        &mut self,
        kind: ConflictKind,
        now: Instant,
        peer: IpAddr,
        quiet: Duration,
    ) -> bool {
        let e = &mut self.episodes.get_or_insert_with(Default::default)[kind.index()];
        let new = match e.last_seen {
            None => true,
            Some(t) => now.saturating_since(t) > quiet,
        };
        if new {
            e.since = Some(now);
            e.count += 1;
        }
        e.last_seen = Some(now);
        e.peer = Some(peer);
        new
    }

    /// The episode record of `kind`.
    pub fn episode(&self, kind: ConflictKind) -> &Episode {
        self.episodes
            .as_ref()
            .map_or(&NO_EPISODE, |e| &e[kind.index()])
    }

    /// Whether an episode of `kind` is going on at `now` (seen within `quiet`).
    pub fn active(&self, kind: ConflictKind, now: Instant, quiet: Duration) -> bool {
        self.episode(kind)
            .last_seen
            .is_some_and(|t| now.saturating_since(t) <= quiet)
    }

    /// Episodes raised so far, all kinds.
    pub fn total(&self) -> u64 {
        self.episodes
            .iter()
            .flat_map(|e| e.iter())
            .map(|e| e.count)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> Instant {
        Instant::from_nanos(s * 1_000_000_000)
    }

    #[test]
    fn one_event_per_episode_and_a_new_one_after_a_quiet_spell() {
        let mut c = Conflicts::default();
        let peer: IpAddr = "192.0.2.2".parse().unwrap();
        let quiet = Duration::from_secs(3);
        assert!(c.seen(ConflictKind::Interval, t(10), peer, quiet));
        for s in 11..20 {
            assert!(!c.seen(ConflictKind::Interval, t(s), peer, quiet), "at {s}");
        }
        assert!(c.active(ConflictKind::Interval, t(22), quiet));
        assert!(!c.active(ConflictKind::Interval, t(23), quiet));
        // Other kinds are independent.
        assert!(c.seen(ConflictKind::DualMaster, t(20), peer, quiet));
        assert!(c.seen(ConflictKind::Interval, t(30), peer, quiet));
        assert_eq!(c.episode(ConflictKind::Interval).count, 2);
        assert_eq!(c.episode(ConflictKind::Interval).since, Some(t(30)));
        assert_eq!(c.total(), 3);
    }
}
