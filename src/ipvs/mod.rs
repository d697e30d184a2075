//! The IPVS model (services and destinations) and its diff. `model` computes the desired
//! table from the configuration and the checkers' states; `diff` turns desired vs. current
//! into an ordered operation list. The generic-netlink runtime arrives with a later step.

pub mod diff;
pub mod model;
