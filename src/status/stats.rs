//! `keepalived.stats` (SIGUSR2): keepalived 2.2.7's block per instance, exactly, then our
//! other counters. Parsers of this file (e.g. mehdy/keepalived-exporter) read every
//! indented line after a `VRRP Instance:` line as `label: integer`, under the last
//! section line ending in `:`; so the extension section has a header no parser knows, its
//! indented values are all integers, and its section names are not keepalived's. The
//! world's own I/O figures (which may not be integers) come last, unindented.

use super::snapshot::Snapshot;
use super::HostFacts;
use crate::vrrp::stats::Stats;
use std::fmt::Write as _;

/// The whole `keepalived.stats` text.
pub fn render_stats(snap: &Snapshot, facts: &HostFacts) -> String {
    let mut out = String::new();
    for i in &snap.instances {
        let _ = writeln!(out, "VRRP Instance: {}\n{}", i.cfg.name, i.stats);
    }
    let _ = writeln!(out, "------< keepalived-rs counters >------");
    for i in &snap.instances {
        let _ = writeln!(out, "Instance {}:", i.cfg.name);
        extra(&mut out, &i.stats);
        let _ = writeln!(out, "  VIPs restored: {}", i.stats.vips_restored);
    }
    let _ = writeln!(out, "Not claimed by any instance:");
    extra(&mut out, &snap.host_stats);
    if !facts.io_stats.is_empty() {
        let _ = writeln!(out, "------< keepalived-rs I/O statistics >------");
        for (label, value) in &facts.io_stats {
            let _ = writeln!(out, "{label}: {value}");
        }
    }
    out
}

/// The counters keepalived's block does not have.
fn extra(out: &mut String, s: &Stats) {
    let _ = writeln!(out, "  Discarded:");
    let lines = [
        ("Version", s.version_errors),
        ("Checksum", s.checksum_errors),
        ("VRID", s.vrid_errors),
        ("Address", s.address_errors),
        ("Unicast source", s.unicast_src_errors),
        ("Owner", s.owner_conflicts),
        ("Total", s.discarded()),
    ];
    for (label, n) in lines {
        let _ = writeln!(out, "    {label}: {n}");
    }
    let _ = writeln!(out, "  Interval mismatches: {}", s.interval_mismatches);
    let _ = writeln!(out, "  VRRPv3 IPv4 checksum:");
    let _ = writeln!(out, "    Pseudo header: {}", s.v3_checksum_pseudo_header);
    let _ = writeln!(out, "    Message only: {}", s.v3_checksum_message_only);
}
