//! `vrrp_sync_group`: members move together (filled by the engine work).
