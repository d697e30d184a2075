//! Tree to model, with keepalived's defaults and located diagnostics.
//!
//! `build_nodes` walks the block tree of `tree` once, block by block (`global`, `vrrp`,
//! `lvs`, `misc`), keeping every explicitly given value; `resolve` then folds the
//! `global_defs` defaults into each instance (an instance's own value always wins) and
//! `validate` checks ranges that depend on other keywords, references, duplicates,
//! address families, strict mode and (when asked) the host's interfaces. Every problem
//! is reported; building goes on with keepalived's default in place of a bad value.
//!
//! The rules follow what keepalived 2.2.7's `-t` reports (tests/config_samples.rs
//! compares verdicts with it on the samples and thousands of variants). Deliberate
//! differences: an unknown keyword names the nearest valid one; `interface` may be
//! omitted with unicast peers (as documented; 2.2.7 rejects it, keepalived#2270);
//! `nb_get_retry`, FILE_CHECK `dynamic` and `v3_checksum_as_v2` are accepted; we reject
//! what 2.2.7 lets through silently: `auth_pass` without `auth_type`, `version 2` with
//! IPv6 addresses, a virtual server naming a missing group, unicast in strict mode,
//! `regex_*_offset` values that are not numbers.

mod compact;
mod global;
pub mod iproute;
mod lvs;
mod misc;
mod resolve;
mod script_vet;
mod suggest;
#[cfg(test)]
mod tests;
mod validate;
pub(crate) mod values;
mod vrrp;

use super::lang_pre;
use super::model::Config;
use super::script_check::{Host, LiveHost};
use super::tree::Node;
use super::{Diagnostic, LoadOptions, Loaded, Span};
use std::path::Path;
use values::{Ctx, Shape};

pub use script_vet::SECURITY_VIOLATION;
pub use suggest::{distance, nearest, MAX_SUGGEST_CHARS};
pub use validate::NO_SUCH_INTERFACE;

/// The top-level keywords.
const ROOT: &[(&str, Shape)] = &[
    ("global_defs", Shape::Block),
    ("vrrp_instance", Shape::Block),
    ("vrrp_script", Shape::Block),
    ("vrrp_sync_group", Shape::Block),
    ("track_file", Shape::Block),
    ("vrrp_track_file", Shape::Block),
    ("vrrp_track_process", Shape::Block),
    ("static_ipaddress", Shape::Block),
    ("static_routes", Shape::Block),
    ("static_rules", Shape::Block),
    ("track_group", Shape::Block),
    ("garp_group", Shape::Block),
    ("linkbeat_interfaces", Shape::Block),
    ("interface_up_down_delays", Shape::Block),
    ("bfd_instance", Shape::Block),
    ("virtual_server_group", Shape::Block),
    ("virtual_server", Shape::Block),
    ("SSL", Shape::Block),
    ("net_namespace", Shape::Line),
    ("net_namespace_ipvs", Shape::Line),
    ("namespace_with_ipsets", Shape::Line),
    ("instance", Shape::Line),
    ("use_pid_dir", Shape::Line),
    ("linkbeat_use_polling", Shape::Line),
    ("child_wait_time", Shape::Line),
];

/// The block a keyword belongs to, for "unknown keyword here" messages: the first of
/// these tables that has it.
pub(crate) fn home_of(kw: &str) -> Option<&'static str> {
    let in_table = |t: &[(&str, Shape)]| t.iter().any(|(k, _)| *k == kw);
    let homes: [(&str, &[(&str, Shape)]); 11] = [
        ("the top level", ROOT),
        ("global_defs", global::TYPED),
        ("vrrp_instance", vrrp::INSTANCE),
        ("vrrp_sync_group", vrrp::SYNC_GROUP),
        ("vrrp_script", misc::SCRIPT),
        ("track_file", misc::TRACK_FILE),
        ("vrrp_track_process", misc::TRACK_PROCESS),
        ("bfd_instance", misc::BFD),
        ("virtual_server", lvs::VS),
        ("real_server", lvs::RS),
        ("a checker block", lvs::COMMON),
    ];
    if global::OTHER.iter().any(|(k, _)| *k == kw) {
        return Some("global_defs");
    }
    if lvs::URL.iter().any(|(k, _)| *k == kw) {
        return Some("url");
    }
    homes.iter().find(|(_, t)| in_table(t)).map(|(h, _)| *h)
}

/// Reads `path` (and its includes), builds and validates the model. Each top-level block
/// is built as soon as it is read and its tree dropped, so the memory of a load is the
/// model's, not the whole file's tree. `progress` is called every few hundred units of
/// work (see [`super::load_with`]).
pub fn load(path: &Path, opts: &LoadOptions, progress: &mut dyn FnMut()) -> Loaded {
    // Route and rule names as this host's iproute2 files define them (keepalived reads them).
    let mut ctx = Ctx {
        rt_names: iproute::RtNames::from_host(),
        ..Ctx::default()
    };
    let mut b = Builder::default();
    let read = lang_pre::read_file(path, opts, &mut |node| b.root(&mut ctx, &node), progress);
    let main_missing = read.missing_files.iter().any(|m| m == path);
    // A file on this host, checked against this host (`-t`) or run here: its scripts too.
    let host = (opts.host_interfaces.is_some() || opts.check_scripts).then_some(&LiveHost);
    ctx.progress = Some(progress);
    finish(
        read,
        ctx,
        b,
        opts,
        main_missing,
        host.map(|h| h as &dyn Host),
    )
}

/// As [`load`] for text in memory; `origin` names it in diagnostics. The text may
/// describe another host (the simulator's routers), so the scripts it names are not
/// looked for on this host's filesystem, even with `host_interfaces`.
pub fn load_str(text: &str, origin: &Path, opts: &LoadOptions) -> Loaded {
    let mut ctx = Ctx::default();
    let mut b = Builder::default();
    let read = lang_pre::read_str(
        text,
        origin,
        opts,
        &mut |node| b.root(&mut ctx, &node),
        &mut || {},
    );
    finish(read, ctx, b, opts, false, None)
}

/// As [`load_str`], its scripts checked against `host` (tests of the script rules).
#[cfg(test)]
pub(crate) fn load_str_on(text: &str, origin: &Path, host: &dyn Host) -> Loaded {
    let opts = LoadOptions::default();
    let mut ctx = Ctx::default();
    let mut b = Builder::default();
    let read = lang_pre::read_str(
        text,
        origin,
        &opts,
        &mut |node| b.root(&mut ctx, &node),
        &mut || {},
    );
    finish(read, ctx, b, &opts, false, Some(host))
}

fn finish(
    read: lang_pre::Read,
    mut ctx: Ctx,
    b: Builder,
    opts: &LoadOptions,
    main_missing: bool,
    host: Option<&dyn Host>,
) -> Loaded {
    let config = resolve::finish(&mut ctx, b, opts, host);
    let mut diagnostics = read.diagnostics;
    diagnostics.extend(ctx.diags.into_vec());
    // File order (stable: messages at one place keep the order they were found in).
    diagnostics.sort_by(|a, b| a.span.cmp(&b.span));
    Loaded {
        config,
        diagnostics,
        missing_files: read.missing_files,
        main_missing,
        all_config: opts.all_config,
    }
}

/// Builds the model from a parsed tree: every diagnostic of building and validation, in
/// file order of the problem found.
pub fn build_nodes(nodes: &[Node], opts: &LoadOptions) -> (Config, Vec<Diagnostic>) {
    let mut ctx = Ctx::default();
    let mut b = Builder::default();
    for node in nodes {
        b.root(&mut ctx, node);
    }
    let config = resolve::finish(&mut ctx, b, opts, None);
    (config, ctx.diags.into_vec())
}

/// What the walk collects before resolution.
#[derive(Default)]
pub(crate) struct Builder {
    pub config: Config,
    pub instances: Vec<vrrp::Draft>,
    pub global_span: Option<Span>,
    /// Virtual server span -> its `protocol` keyword span (for group services, checked
    /// once the groups are known).
    pub vs_protocol: std::collections::BTreeMap<Span, Span>,
    /// Per sync group (in order): `smtp_alert` and `notify_priority_changes` were given.
    pub group_explicit: Vec<(bool, bool)>,
}

impl Builder {
    fn root(&mut self, ctx: &mut Ctx, node: &Node) {
        if !ctx.check_keyword(node, ROOT) {
            return;
        }
        let children: &[Node] = node.children.as_deref().unwrap_or(&[]);
        match node.keyword.text.as_str() {
            "global_defs" => {
                ctx.no_extra(node, 0);
                if self.global_span.is_none() {
                    self.global_span = Some(node.keyword.span.clone());
                }
                global::global_defs(ctx, &mut self.config, children);
            }
            "vrrp_instance" => {
                if let Some(mut d) = vrrp::instance(ctx, node) {
                    compact::instance(&mut d.inst);
                    compact::exact(&mut d.ex.peer_spans);
                    compact::push(&mut self.instances, d);
                }
            }
            "vrrp_script" => {
                if let Some(s) = misc::vrrp_script(ctx, node) {
                    self.config.vrrp_scripts.push(s);
                }
            }
            "vrrp_sync_group" => {
                if let Some(g) = vrrp::sync_group(ctx, node) {
                    let given = |k: &str| children.iter().any(|c| c.keyword.text == k);
                    self.group_explicit
                        .push((given("smtp_alert"), given("notify_priority_changes")));
                    self.config.sync_groups.push(g);
                }
            }
            "track_file" | "vrrp_track_file" => {
                if let Some(t) = misc::track_file(ctx, node) {
                    self.config.track_files.push(t);
                }
            }
            "vrrp_track_process" => {
                if let Some(t) = misc::track_process(ctx, node) {
                    self.config.track_processes.push(t);
                }
            }
            "static_ipaddress" => {
                ctx.no_extra(node, 0);
                for c in children {
                    if let Some(a) = vrrp::address(ctx, "static_ipaddress", c, true) {
                        self.config.static_addresses.push(a);
                    }
                }
            }
            "static_routes" => {
                ctx.no_extra(node, 0);
                for c in children {
                    if let Some(r) = iproute::route(ctx, "static_routes", c, false) {
                        self.config.static_routes.push(r);
                    }
                }
            }
            "static_rules" => {
                ctx.no_extra(node, 0);
                for c in children {
                    if let Some(r) = iproute::rule(ctx, "static_rules", c, false) {
                        self.config.static_rules.push(r);
                    }
                }
            }
            "track_group" => {
                if let Some(g) = misc::track_group(ctx, node) {
                    self.config.track_groups.push(g);
                }
            }
            "garp_group" => {
                if let Some(g) = misc::garp_group(ctx, node) {
                    self.config.garp_groups.push(g);
                }
            }
            "linkbeat_interfaces" => misc::linkbeat_interfaces(ctx, &mut self.config, node),
            "interface_up_down_delays" => {
                misc::interface_up_down_delays(ctx, &mut self.config, node)
            }
            "bfd_instance" => {
                if let Some(b) = misc::bfd_instance(ctx, node) {
                    self.config.bfd_instances.push(b);
                }
            }
            "virtual_server_group" => {
                if let Some(g) = lvs::virtual_server_group(ctx, node) {
                    self.config.virtual_server_groups.push(g);
                }
            }
            "virtual_server" => {
                if let Some(mut v) = lvs::virtual_server(ctx, node) {
                    compact::virtual_server(&mut v);
                    if let Some(p) = children.iter().find(|c| c.keyword.text == "protocol") {
                        self.vs_protocol
                            .insert(v.span.clone(), p.keyword.span.clone());
                    }
                    compact::push(&mut self.config.virtual_servers, v);
                }
            }
            "SSL" => misc::ssl(ctx, &mut self.config, node),
            _ => global::process_keyword(ctx, &mut self.config.process, node),
        }
    }
}
