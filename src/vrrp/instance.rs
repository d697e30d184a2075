//! The RFC state machine of one virtual router (filled by the engine work).
