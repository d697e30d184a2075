//! `vrrp_sync_group`: members move together (keepalived semantics). When one member
//! becomes Master the Backup members follow at once; when one is demoted from Master the
//! other Masters step down; a fault of any member (its own tracking) holds every member in
//! FAULT until all are clear. This module decides who follows; the engine applies it.

use crate::config::model::SyncGroup;
use crate::vrrp::State;

/// One sync group with its members resolved to instance indices.
#[derive(Clone, Debug)]
pub struct Group {
    pub cfg: SyncGroup,
    pub members: Vec<usize>,
    /// The state last announced for the group (notify GROUP lines).
    pub state: State,
}

/// What the other members must do after `from -> to` of one member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Follow {
    /// Every member in Backup becomes Master.
    Master,
    /// Every member in Master steps down to Backup.
    Backup,
    Nothing,
}

pub fn follow(from: State, to: State) -> Follow {
    match (from, to) {
        (State::Backup, State::Master) | (State::Fault, State::Master) => Follow::Master,
        (State::Master, State::Backup) => Follow::Backup,
        _ => Follow::Nothing,
    }
}

impl Group {
    pub fn new(cfg: SyncGroup, members: Vec<usize>) -> Group {
        Group {
            cfg,
            members,
            state: State::Initialize,
        }
    }

    /// The group's state given its members' states: the common state, else None (members
    /// still moving).
    pub fn settled_state(states: &[State]) -> Option<State> {
        let first = *states.first()?;
        states.iter().all(|s| *s == first).then_some(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_rules() {
        assert_eq!(follow(State::Backup, State::Master), Follow::Master);
        assert_eq!(follow(State::Master, State::Backup), Follow::Backup);
        assert_eq!(follow(State::Initialize, State::Backup), Follow::Nothing);
        assert_eq!(follow(State::Fault, State::Backup), Follow::Nothing);
    }

    #[test]
    fn settled() {
        assert_eq!(
            Group::settled_state(&[State::Master, State::Master]),
            Some(State::Master)
        );
        assert_eq!(Group::settled_state(&[State::Master, State::Backup]), None);
        assert_eq!(Group::settled_state(&[]), None);
    }
}
