//! The real world: one mio loop executing the engine's actions against Linux (filled by
//! the Linux work).
