//! `--dump-conf`: the resolved model as stable keepalived.conf text.
//!
//! Every block is written in a fixed order, every value explicitly (resolved global
//! defaults included), so the output is itself a valid configuration and
//! `dump(load_str(dump(c)))` is byte-identical to `dump(c)`.

use super::build::values::fmt_duration;
use super::model::*;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Duration;

/// Writes the whole configuration.
pub fn dump(config: &Config) -> String {
    let mut w = W::default();
    global(&mut w, &config.global);
    process(&mut w, &config.process);
    statics(&mut w, config);
    for b in &config.bfd_instances {
        bfd(&mut w, b);
    }
    for s in &config.vrrp_scripts {
        vrrp_script(&mut w, s);
    }
    for t in &config.track_files {
        w.open(&format!("track_file {}", q(&t.name)));
        w.line(&format!("file {}", q(&t.file)));
        w.line(&weight(t.weight as i64, t.reverse));
        if let Some((v, o)) = t.init_file {
            w.line(&format!(
                "init_file {v}{}",
                if o { " overwrite" } else { "" }
            ));
        }
        w.close();
    }
    for t in &config.track_processes {
        track_process(&mut w, t);
    }
    for g in &config.sync_groups {
        sync_group(&mut w, g);
    }
    for i in &config.instances {
        instance(&mut w, i, config.global.v3_checksum_as_v2);
    }
    if let Some(s) = &config.ssl {
        w.open("SSL");
        opt_line(&mut w, "password", &s.password);
        opt_line(&mut w, "ca", &s.ca);
        opt_line(&mut w, "certificate", &s.certificate);
        opt_line(&mut w, "key", &s.key);
        w.close();
    }
    for g in &config.virtual_server_groups {
        vsg(&mut w, g);
    }
    for v in &config.virtual_servers {
        virtual_server(&mut w, v);
    }
    w.out
}

#[derive(Default)]
struct W {
    out: String,
    depth: usize,
}

impl W {
    fn line(&mut self, s: &str) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }
    fn open(&mut self, s: &str) {
        self.line(&format!("{s} {{"));
        self.depth += 1;
    }
    fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.line("}");
        if self.depth == 0 {
            self.out.push('\n');
        }
    }
    fn flag(&mut self, kw: &str, on: bool) {
        if on {
            self.line(kw);
        }
    }
    fn bool(&mut self, kw: &str, v: bool) {
        self.line(&format!("{kw} {}", if v { "on" } else { "off" }));
    }
}

/// A word as the lexer will read it back: quoted (with escapes) when it holds anything
/// the lexer treats specially.
fn q(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.starts_with(['@', '~', '$'])
        && s.chars().all(|c| {
            !c.is_whitespace() && !matches!(c, '"' | '\'' | '{' | '}' | '#' | '!' | '\\' | '$')
        });
    if plain {
        return s.to_string();
    }
    quoted(s)
}

/// Always in double quotes, with escapes.
fn quoted(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '\r' => o.push_str("\\r"),
            // Three octal digits: a following digit cannot extend the escape.
            c if (c as u32) < 0x20 || c == '\x7f' => {
                let _ = write!(o, "\\{:03o}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn secs(d: Duration) -> String {
    fmt_duration(d)
}

fn whole(d: Duration) -> u64 {
    d.as_secs()
}

fn opt_line(w: &mut W, kw: &str, v: &Option<String>) {
    if let Some(v) = v {
        w.line(&format!("{kw} {}", q(v)));
    }
}

fn weight(v: i64, reverse: bool) -> String {
    format!("weight {v}{}", if reverse { " reverse" } else { "" })
}

/// A command line as one word plus `[USER [GROUP]]`.
fn script(cmd: &ScriptCommand) -> String {
    let line: Vec<String> = cmd
        .argv
        .iter()
        .map(|a| {
            if a.is_empty() || a.chars().any(|c| c.is_whitespace() || c == '"') {
                format!("'{a}'")
            } else {
                a.clone()
            }
        })
        .collect();
    let joined = line.join(" ");
    let mut s = if line.len() == 1 && q(&joined) == joined {
        joined
    } else {
        quoted(&joined)
    };
    if let Some(u) = &cmd.user {
        s.push(' ');
        s.push_str(&q(u));
        if let Some(g) = &cmd.group {
            s.push(' ');
            s.push_str(&q(g));
        }
    }
    s
}

fn script_line(w: &mut W, kw: &str, cmd: Option<&ScriptCommand>) {
    if let Some(c) = cmd {
        if c.argv.is_empty() {
            w.line(kw);
        } else {
            w.line(&format!("{kw} {}", script(c)));
        }
    }
}

fn global(w: &mut W, g: &GlobalDefs) {
    w.open("global_defs");
    opt_line(w, "router_id", &g.router_id);
    if !g.notification_email.is_empty() {
        w.open("notification_email");
        for e in &g.notification_email {
            w.line(&q(e));
        }
        w.close();
    }
    opt_line(w, "notification_email_from", &g.notification_email_from);
    if let Some(s) = &g.smtp_server {
        match g.smtp_server_port {
            Some(p) => w.line(&format!("smtp_server {} {p}", q(s))),
            None => w.line(&format!("smtp_server {}", q(s))),
        }
    }
    opt_line(w, "smtp_helo_name", &g.smtp_helo_name);
    w.line(&format!(
        "smtp_connect_timeout {}",
        whole(g.smtp_connect_timeout)
    ));
    for (kw, v) in [
        ("smtp_alert", g.smtp_alert),
        ("smtp_alert_vrrp", g.smtp_alert_vrrp),
        ("smtp_alert_checker", g.smtp_alert_checker),
    ] {
        if let Some(v) = v {
            w.bool(kw, v);
        }
    }
    w.bool("checker_log_all_failures", g.checker_log_all_failures);
    w.flag("no_email_faults", g.no_email_faults);
    if let Some(u) = &g.script_user {
        match &g.script_group {
            Some(gr) => w.line(&format!("script_user {} {}", q(u), q(gr))),
            None => w.line(&format!("script_user {}", q(u))),
        }
    }
    w.flag("enable_script_security", g.enable_script_security);
    w.flag("vrrp_strict", g.vrrp_strict);
    w.line(&format!("vrrp_mcast_group4 {}", g.vrrp_mcast_group4));
    w.line(&format!("vrrp_mcast_group6 {}", g.vrrp_mcast_group6));
    opt_line(w, "default_interface", &g.default_interface);
    if let Some(d) = &g.lvs_sync_daemon {
        let mut s = format!("lvs_sync_daemon {}", q(&d.interface));
        if let Some(i) = &d.instance {
            let _ = write!(s, " inst {}", q(i));
        }
        if let Some(v) = d.sync_id {
            let _ = write!(s, " id {v}");
        }
        if let Some(v) = d.maxlen {
            let _ = write!(s, " maxlen {v}");
        }
        if let Some(v) = d.port {
            let _ = write!(s, " port {v}");
        }
        if let Some(v) = d.ttl {
            let _ = write!(s, " ttl {v}");
        }
        if let Some(v) = d.group {
            let _ = write!(s, " group {v}");
        }
        w.line(&s);
    }
    if let Some(t) = &g.lvs_timeouts {
        let mut s = "lvs_timeouts".to_string();
        for (k, v) in [("tcp", t.tcp), ("tcpfin", t.tcpfin), ("udp", t.udp)] {
            if let Some(v) = v {
                let _ = write!(s, " {k} {v}");
            }
        }
        w.line(&s);
    }
    w.flag("lvs_flush", g.lvs_flush);
    match g.lvs_flush_on_stop {
        Some(true) => w.line("lvs_flush_on_stop VS"),
        Some(false) => w.line("lvs_flush_on_stop"),
        None => {}
    }
    let ga = &g.vrrp_garp;
    w.line(&format!(
        "vrrp_garp_master_delay {}",
        whole(ga.master_delay)
    ));
    w.line(&format!("vrrp_garp_master_repeat {}", ga.master_repeat));
    w.line(&format!(
        "vrrp_garp_lower_prio_delay {}",
        whole(ga.lower_prio_delay)
    ));
    if let Some(r) = ga.lower_prio_repeat {
        w.line(&format!("vrrp_garp_lower_prio_repeat {r}"));
    }
    w.line(&format!(
        "vrrp_garp_master_refresh {}",
        ga.master_refresh.map(whole).unwrap_or(0)
    ));
    w.line(&format!(
        "vrrp_garp_master_refresh_repeat {}",
        ga.master_refresh_repeat
    ));
    if !ga.interval.is_zero() {
        w.line(&format!("vrrp_garp_interval {}", secs(ga.interval)));
    }
    if !ga.na_interval.is_zero() {
        w.line(&format!("vrrp_gna_interval {}", secs(ga.na_interval)));
    }
    w.bool("vrrp_min_garp", g.vrrp_min_garp);
    if let Some(e) = &g.vrrp_garp_extra_if {
        w.line(&extra_if("vrrp_garp_extra_if", e));
    }
    if let Some(n) = g.vrrp_down_timer_adverts {
        w.line(&format!("vrrp_down_timer_adverts {n}"));
    }
    w.bool("vrrp_lower_prio_no_advert", g.vrrp_lower_prio_no_advert);
    w.bool(
        "vrrp_higher_prio_send_advert",
        g.vrrp_higher_prio_send_advert,
    );
    if let Some(v) = g.vrrp_version {
        w.line(&format!("vrrp_version {}", version(v)));
    }
    w.flag("vrrp_check_unicast_src", g.vrrp_check_unicast_src);
    w.bool("vrrp_skip_check_adv_addr", g.vrrp_skip_check_adv_addr);
    w.bool(
        "vrrp_notify_priority_changes",
        g.vrrp_notify_priority_changes,
    );
    if let Some(d) = g.vrrp_startup_delay {
        w.line(&format!("vrrp_startup_delay {}", secs(d)));
    }
    opt_line(w, "notify_fifo", &g.notify_fifo);
    script_line(w, "notify_fifo_script", g.notify_fifo_script.as_ref());
    opt_line(w, "vrrp_notify_fifo", &g.vrrp_notify_fifo);
    script_line(
        w,
        "vrrp_notify_fifo_script",
        g.vrrp_notify_fifo_script.as_ref(),
    );
    opt_line(w, "lvs_notify_fifo", &g.lvs_notify_fifo);
    script_line(
        w,
        "lvs_notify_fifo_script",
        g.lvs_notify_fifo_script.as_ref(),
    );
    w.flag(
        "fifo_write_vrrp_states_on_reload",
        g.fifo_write_vrrp_states_on_reload,
    );
    script_line(w, "startup_script", g.startup_script.as_ref());
    w.line(&format!(
        "startup_script_timeout {}",
        whole(g.startup_script_timeout)
    ));
    script_line(w, "shutdown_script", g.shutdown_script.as_ref());
    w.line(&format!(
        "shutdown_script_timeout {}",
        whole(g.shutdown_script_timeout)
    ));
    // Only when set: keepalived 2.2.7 does not know this keyword.
    w.flag("v3_checksum_as_v2", g.v3_checksum_as_v2);
    // Extension of keepalived-rs, only when set.
    if let Some(a) = g.metrics_listen {
        w.line(&format!("metrics_listen {a}"));
    }
    match g.dynamic_interfaces {
        Some(true) => w.line("dynamic_interfaces allow_if_changes"),
        Some(false) => w.line("dynamic_interfaces"),
        None => {}
    }
    for (k, v) in &g.other {
        match v {
            GlobalValue::Flag => w.line(k),
            GlobalValue::Bool(b) => w.bool(k, *b),
            GlobalValue::Int(i) => w.line(&format!("{k} {i}")),
            GlobalValue::Timer(d) => w.line(&format!("{k} {}", secs(*d))),
            GlobalValue::Str(s) => w.line(&format!("{k} {}", q(s))),
            GlobalValue::Words(ws) => {
                let mut s = k.clone();
                for x in ws {
                    s.push(' ');
                    s.push_str(&q(x));
                }
                w.line(&s);
            }
        }
    }
    w.close();
}

fn extra_if(kw: &str, e: &GarpExtraIf) -> String {
    format!(
        "{kw}{} {}",
        if e.all { " all" } else { "" },
        whole(e.interval)
    )
}

fn version(v: VrrpVersion) -> u8 {
    match v {
        VrrpVersion::V2 => 2,
        VrrpVersion::V3 => 3,
    }
}

fn process(w: &mut W, p: &ProcessDefs) {
    let before = w.out.len();
    opt_line(w, "net_namespace", &p.net_namespace);
    match &p.net_namespace_ipvs {
        Some(Some(n)) => w.line(&format!("net_namespace_ipvs {}", q(n))),
        Some(None) => w.line("net_namespace_ipvs"),
        None => {}
    }
    w.flag("namespace_with_ipsets", p.namespace_with_ipsets);
    opt_line(w, "instance", &p.instance);
    w.flag("use_pid_dir", p.use_pid_dir);
    w.flag("linkbeat_use_polling", p.linkbeat_use_polling);
    if let Some(t) = p.child_wait_time {
        w.line(&format!("child_wait_time {t}"));
    }
    if w.out.len() != before {
        w.out.push('\n');
    }
}

fn statics(w: &mut W, c: &Config) {
    if !c.linkbeat_interfaces.is_empty() {
        w.open("linkbeat_interfaces");
        for (i, k) in &c.linkbeat_interfaces {
            match k {
                Some(k) => w.line(&format!("{} {k}", q(i))),
                None => w.line(&q(i)),
            }
        }
        w.close();
    }
    if !c.interface_up_down_delays.is_empty() {
        w.open("interface_up_down_delays");
        for d in &c.interface_up_down_delays {
            w.line(&format!(
                "{} {} {}",
                q(&d.interface),
                secs(d.down),
                secs(d.up)
            ));
        }
        w.close();
    }
    for g in &c.track_groups {
        w.open(&format!("track_group {}", q(&g.name)));
        w.open("group");
        for m in &g.members {
            w.line(&q(m));
        }
        w.close();
        w.close();
    }
    for g in &c.garp_groups {
        w.open("garp_group");
        if let Some(d) = g.garp_interval {
            w.line(&format!("garp_interval {}", secs(d)));
        }
        if let Some(d) = g.gna_interval {
            w.line(&format!("gna_interval {}", secs(d)));
        }
        w.open("interfaces");
        for i in &g.interfaces {
            w.line(&q(i));
        }
        w.close();
        w.close();
    }
    if !c.static_addresses.is_empty() {
        w.open("static_ipaddress");
        for a in &c.static_addresses {
            w.line(&address(a));
        }
        w.close();
    }
    if !c.static_routes.is_empty() {
        w.open("static_routes");
        for r in &c.static_routes {
            w.line(&r.to_string());
        }
        w.close();
    }
    if !c.static_rules.is_empty() {
        w.open("static_rules");
        for r in &c.static_rules {
            w.line(&r.to_string());
        }
        w.close();
    }
}

fn words(ws: &[String]) -> String {
    ws.iter().map(|x| q(x)).collect::<Vec<_>>().join(" ")
}

fn address(a: &VirtualAddress) -> String {
    let mut s = format!("{}/{}", a.addr, a.prefix_len);
    let o = &a.options;
    if let Some(b) = a.brd {
        let _ = write!(s, " brd {b}");
    }
    match o.brd_set_host_bits {
        Some(true) => s.push_str(" brd +"),
        Some(false) => s.push_str(" brd -"),
        None => {}
    }
    if let Some(d) = &a.dev {
        let _ = write!(s, " dev {}", q(d));
    }
    if let Some(x) = &a.scope {
        let _ = write!(s, " scope {x}");
    }
    if let Some(x) = &a.label {
        let _ = write!(s, " label {}", q(x));
    }
    if let Some(x) = a.peer {
        let _ = write!(s, " peer {x}");
    }
    if let Some(x) = a.preferred_lft {
        let _ = write!(s, " preferred_lft {x}");
    }
    if o.preferred_forever {
        s.push_str(" preferred_lft forever");
    }
    if let Some(t) = &o.track_group {
        let _ = write!(s, " track_group {}", q(t));
    }
    for (on, kw) in [
        (a.no_dad, "-nodad"),
        (o.home, "home"),
        (o.mngtmpaddr, "mngtmpaddr"),
        (o.noprefixroute, "noprefixroute"),
        (o.autojoin, "autojoin"),
        (o.no_track, "no_track"),
        (o.use_vmac, "use_vmac"),
    ] {
        if on {
            s.push(' ');
            s.push_str(kw);
        }
    }
    s
}

fn bfd(w: &mut W, b: &BfdInstance) {
    w.open(&format!("bfd_instance {}", q(&b.name)));
    if let Some(a) = b.neighbor_ip {
        w.line(&format!("neighbor_ip {a}"));
    }
    if let Some(a) = b.source_ip {
        w.line(&format!("source_ip {a}"));
    }
    let ms = |us: u32| secs(Duration::from_micros(u64::from(us) * 1000));
    w.line(&format!("min_rx {}", ms(b.min_rx_us)));
    w.line(&format!("min_tx {}", ms(b.min_tx_us)));
    w.line(&format!("idle_tx {}", ms(b.idle_tx_us)));
    w.line(&format!("multiplier {}", b.multiplier));
    w.flag("passive", b.passive);
    w.line(&format!("ttl {}", b.ttl));
    w.line(&format!("hoplimit {}", b.hoplimit));
    w.line(&format!("max_hops {}", b.max_hops));
    w.line(&weight(b.weight as i64, b.reverse));
    w.flag("vrrp", b.vrrp);
    w.flag("checker", b.checker);
    w.close();
}

fn vrrp_script(w: &mut W, s: &VrrpScript) {
    w.open(&format!("vrrp_script {}", q(&s.name)));
    let bare = ScriptCommand::from_argv(&s.script.argv);
    w.line(&format!("script {}", script(&bare)));
    w.line(&format!("interval {}", secs(s.interval)));
    if let Some(t) = s.timeout {
        w.line(&format!("timeout {}", secs(t)));
    }
    w.line(&weight(s.weight as i64, s.reverse));
    w.line(&format!("rise {}", s.rise));
    w.line(&format!("fall {}", s.fall));
    if let Some(u) = &s.script.user {
        match &s.script.group {
            Some(g) => w.line(&format!("user {} {}", q(u), q(g))),
            None => w.line(&format!("user {}", q(u))),
        }
    }
    w.flag("init_fail", s.init_fail);
    w.close();
}

fn track_process(w: &mut W, t: &TrackProcess) {
    w.open(&format!("vrrp_track_process {}", q(&t.name)));
    w.line(&format!("process {}", words(&t.process)));
    opt_line(w, "param_match", &t.param_match);
    w.line(&weight(t.weight as i64, t.reverse));
    w.line(&format!("quorum {}", t.quorum));
    if let Some(m) = t.quorum_max {
        w.line(&format!("quorum_max {m}"));
    }
    w.line(&format!("delay {}", secs(t.delay)));
    if let Some(d) = t.fork_delay {
        w.line(&format!("fork_delay {}", secs(d)));
    }
    if let Some(d) = t.terminate_delay {
        w.line(&format!("terminate_delay {}", secs(d)));
    }
    w.flag("full_command", t.full_command);
    w.close();
}

fn track_block(w: &mut W, kw: &str, refs: &[TrackRef]) {
    if refs.is_empty() {
        return;
    }
    w.open(kw);
    for r in refs {
        let mut s = q(&r.name);
        if let Some(x) = r.weight {
            let _ = write!(s, " {}", weight(x as i64, r.reverse));
        } else if r.reverse {
            s.push_str(" reverse");
        }
        w.line(&s);
    }
    w.close();
}

fn notify(w: &mut W, n: &NotifyScripts) {
    script_line(w, "notify_master", n.master.as_deref());
    script_line(w, "notify_backup", n.backup.as_deref());
    script_line(w, "notify_fault", n.fault.as_deref());
    script_line(w, "notify_stop", n.stop.as_deref());
    script_line(w, "notify_deleted", n.deleted.as_deref());
    script_line(w, "notify", n.any.as_deref());
    script_line(
        w,
        "notify_master_rx_lower_pri",
        n.master_rx_lower_pri.as_deref(),
    );
    script_line(w, "notify_conflict", n.conflict.as_deref());
}

fn sync_group(w: &mut W, g: &SyncGroup) {
    w.open(&format!("vrrp_sync_group {}", q(&g.name)));
    w.open("group");
    for m in &g.members {
        w.line(&q(m));
    }
    w.close();
    track_block(w, "track_interface", &g.track_interfaces);
    track_block(w, "track_script", &g.track_scripts);
    track_block(w, "track_file", &g.track_files);
    track_block(w, "track_process", &g.track_processes);
    track_block(w, "track_bfd", &g.track_bfds);
    notify(w, &g.notify);
    w.bool("notify_priority_changes", g.notify_priority_changes);
    w.bool("smtp_alert", g.smtp_alert);
    w.flag("global_tracking", g.global_tracking);
    w.flag("sync_group_tracking_weight", g.sync_group_tracking_weight);
    w.close();
}

fn mac(m: &[u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn instance(w: &mut W, i: &VrrpInstance, global_v3_as_v2: bool) {
    w.open(&format!("vrrp_instance {}", q(&i.name)));
    w.line(match i.initial_state {
        InitialState::Master => "state MASTER",
        InitialState::Backup => "state BACKUP",
    });
    opt_line(w, "interface", &i.interface);
    opt_line(w, "vrf", &i.vrf.as_deref().cloned());
    if i.vrid != 0 {
        w.line(&format!("virtual_router_id {}", i.vrid));
    }
    w.line(&format!("priority {}", i.priority));
    w.line(&format!("version {}", version(i.version)));
    w.line(&format!("advert_int {}", secs(i.advert_int)));
    if i.family == Family::Inet6 && i.vips.is_empty() {
        w.line("native_ipv6");
    }
    if let Some(a) = &i.auth {
        let (t, k) = match a {
            Auth::Pass(k) => ("PASS", k),
            Auth::Ah(k) => ("AH", k),
        };
        let end = k.iter().position(|b| *b == 0).unwrap_or(8);
        let pass = String::from_utf8_lossy(&k[..end]).into_owned();
        w.open("authentication");
        w.line(&format!("auth_type {t}"));
        w.line(&format!("auth_pass {}", q(&pass)));
        w.close();
    }
    if !i.vips.is_empty() {
        w.open("virtual_ipaddress");
        for a in &i.vips {
            w.line(&address(a));
        }
        w.close();
    }
    if !i.excluded_vips.is_empty() {
        w.open("virtual_ipaddress_excluded");
        for a in &i.excluded_vips {
            w.line(&address(a));
        }
        w.close();
    }
    if !i.virtual_routes.is_empty() {
        w.open("virtual_routes");
        for r in &i.virtual_routes {
            w.line(&r.to_string());
        }
        w.close();
    }
    if !i.virtual_rules.is_empty() {
        w.open("virtual_rules");
        for r in &i.virtual_rules {
            w.line(&r.to_string());
        }
        w.close();
    }
    track_block(w, "track_interface", &i.track_interfaces);
    track_block(w, "track_script", &i.track_scripts);
    track_block(w, "track_file", &i.track_files);
    track_block(w, "track_process", &i.track_processes);
    track_block(w, "track_bfd", &i.track_bfds);
    if let Some(a) = i.unicast_src_ip {
        w.line(&format!("unicast_src_ip {a}"));
    }
    if !i.unicast_peers.is_empty() {
        w.open("unicast_peer");
        for p in &i.unicast_peers {
            let mut s = p.addr.to_string();
            if let Some(t) = p.min_ttl {
                let _ = write!(s, " min_ttl {t}");
            }
            if let Some(t) = p.max_ttl {
                let _ = write!(s, " max_ttl {t}");
            }
            w.line(&s);
        }
        w.close();
    }
    if let Some(t) = i.unicast_ttl {
        w.line(&format!("unicast_ttl {t}"));
    }
    w.flag("unicast_fault_no_peer", i.unicast_fault_no_peer);
    match i.old_unicast_checksum {
        Some(true) => w.line("old_unicast_checksum never"),
        Some(false) => w.line("old_unicast_checksum"),
        None => {}
    }
    if i.v3_checksum_as_v2 {
        w.line("v3_checksum_as_v2");
    } else if global_v3_as_v2 {
        w.line("v3_checksum_as_v2 off");
    }
    if let Some(a) = i.mcast_src_ip {
        w.line(&format!("mcast_src_ip {a}"));
    }
    if let Some(a) = i.mcast_dst_ip {
        w.line(&format!("mcast_dst_ip {a}"));
    }
    w.flag("track_src_ip", i.track_src_ip);
    // Only with peers: without, the keyword only earns a "no unicast peer" warning.
    w.flag(
        "check_unicast_src",
        i.check_unicast_src && !i.unicast_peers.is_empty(),
    );
    if i.nopreempt {
        w.line("nopreempt");
    }
    w.line(&format!("preempt_delay {}", secs(i.preempt_delay)));
    let g = &i.garp;
    w.line(&format!("garp_master_delay {}", whole(g.master_delay)));
    w.line(&format!("garp_master_repeat {}", g.master_repeat));
    w.line(&format!(
        "garp_lower_prio_delay {}",
        whole(g.lower_prio_delay)
    ));
    if let Some(r) = g.lower_prio_repeat {
        w.line(&format!("garp_lower_prio_repeat {r}"));
    }
    w.line(&format!(
        "garp_master_refresh {}",
        g.master_refresh.map(whole).unwrap_or(0)
    ));
    w.line(&format!(
        "garp_master_refresh_repeat {}",
        g.master_refresh_repeat
    ));
    if let Some(e) = &i.garp_extra_if {
        w.line(&extra_if("garp_extra_if", e));
    }
    w.line(&format!("down_timer_adverts {}", i.down_timer_adverts));
    w.bool("strict_mode", i.strict_mode);
    if !(i.strict_mode && i.version == VrrpVersion::V2) {
        w.line(if i.accept { "accept" } else { "no_accept" });
    }
    w.bool("lower_prio_no_advert", i.lower_prio_no_advert);
    w.bool("higher_prio_send_advert", i.higher_prio_send_advert);
    w.bool("skip_check_adv_addr", i.skip_check_adv_addr);
    w.flag("dont_track_primary", i.dont_track_primary);
    if let Some(v) = &i.use_vmac {
        let kind = if i.family == Family::Inet6 { 2 } else { 1 };
        if v.mac == [0, 0, 0x5e, 0, kind, i.vrid] {
            w.line(&format!("use_vmac {}", q(&v.name)));
        } else {
            w.line(&format!("use_vmac {} {}", q(&v.name), mac(&v.mac)));
        }
    }
    w.flag("use_vmac_addr", i.use_vmac_addr);
    w.flag("vmac_xmit_base", i.vmac_xmit_base);
    if let Some(v) = &i.use_ipvlan {
        let mut s = "use_ipvlan".to_string();
        if let Some(n) = &v.name {
            let _ = write!(s, " {}", q(n));
        }
        if let Some((a, l)) = v.addr {
            let _ = write!(s, " {a}/{l}");
        }
        if let Some(m) = &v.mode {
            let _ = write!(s, " {m}");
        }
        w.line(&s);
    }
    w.flag("promote_secondaries", i.promote_secondaries);
    notify(w, &i.notify);
    w.bool("notify_priority_changes", i.notify_priority_changes);
    w.bool("smtp_alert", i.smtp_alert);
    if let Some(k) = i.kernel_rx_buf_size {
        w.line(&format!("kernel_rx_buf_size {k}"));
    }
    w.flag("linkbeat_use_polling", i.linkbeat_use_polling);
    if let Some(d) = i.debug {
        w.line(&format!("debug {d}"));
    }
    w.close();
}

fn family(f: Family) -> &'static str {
    match f {
        Family::Inet => "inet",
        Family::Inet6 => "inet6",
    }
}

fn vsg(w: &mut W, g: &VirtualServerGroup) {
    w.open(&format!("virtual_server_group {}", q(&g.name)));
    for e in &g.entries {
        match e {
            VsgEntry::Range { first, last, port } => {
                let mut s = if first == last {
                    first.to_string()
                } else {
                    format!("{first}-{last}")
                };
                if let Some(p) = port {
                    let _ = write!(s, " {p}");
                }
                w.line(&s);
            }
            VsgEntry::Fwmark { mark, family: f } => match f {
                Some(f) => w.line(&format!("fwmark {mark} {}", family(*f))),
                None => w.line(&format!("fwmark {mark}")),
            },
        }
    }
    w.close();
}

fn method(m: &LvsMethod) -> String {
    match m {
        LvsMethod::Nat => "NAT".to_string(),
        LvsMethod::Dr => "DR".to_string(),
        LvsMethod::Tun { tunnel, csum } => {
            let mut s = match tunnel {
                TunnelType::Ipip => "TUN type ipip".to_string(),
                TunnelType::Gre => "TUN type gre".to_string(),
                TunnelType::Gue { port } => format!("TUN type gue port {port}"),
            };
            if let Some(c) = csum {
                s.push(' ');
                s.push_str(c);
            }
            s
        }
    }
}

fn opt_timer(w: &mut W, kw: &str, d: Option<Duration>) {
    if let Some(d) = d {
        w.line(&format!("{kw} {}", secs(d)));
    }
}

fn virtual_server(w: &mut W, v: &VirtualServer) {
    let head = match &v.key {
        VsKey::Addr { addr, port } => match port {
            Some(p) => format!("virtual_server {} {p}", ip(addr)),
            None => format!("virtual_server {}", ip(addr)),
        },
        VsKey::Fwmark(m) => format!("virtual_server fwmark {m}"),
        VsKey::Group(g) => format!("virtual_server group {}", q(g)),
    };
    w.open(&head);
    w.line(&format!("lvs_sched {}", v.lvs_sched));
    for f in &v.sched_flags {
        w.line(f);
    }
    w.flag("ops", v.ops);
    w.line(&format!("lvs_method {}", method(&v.lvs_method)));
    opt_line(w, "persistence_engine", &v.persistence_engine);
    if let Some(t) = v.persistence_timeout {
        w.line(&format!("persistence_timeout {t}"));
    }
    opt_line(w, "persistence_granularity", &v.persistence_granularity);
    if !matches!(v.key, VsKey::Fwmark(_)) {
        w.line(match v.protocol {
            Protocol::Tcp => "protocol TCP",
            Protocol::Udp => "protocol UDP",
            Protocol::Sctp => "protocol SCTP",
        });
    }
    w.flag("ha_suspend", v.ha_suspend);
    if let Some(b) = v.smtp_alert {
        w.bool("smtp_alert", b);
    }
    opt_line(w, "virtualhost", &v.virtualhost);
    opt_line(w, "snmp_name", &v.snmp_name);
    w.bool("alpha", v.alpha);
    w.flag("omega", v.omega);
    w.line(&format!("quorum {}", v.quorum));
    w.line(&format!("hysteresis {}", v.hysteresis));
    script_line(w, "quorum_up", v.quorum_up.as_ref());
    script_line(w, "quorum_down", v.quorum_down.as_ref());
    if let Some(f) = v.ip_family {
        w.line(&format!("ip_family {}", family(f)));
    }
    if let Some((a, p)) = &v.sorry_server {
        match p {
            Some(p) => w.line(&format!("sorry_server {} {p}", ip(a))),
            None => w.line(&format!("sorry_server {}", ip(a))),
        }
    }
    w.flag(
        "sorry_server_inhibit",
        v.sorry_server_inhibit && v.sorry_server.is_some(),
    );
    if let Some(m) = &v.sorry_server_lvs_method {
        w.line(&format!("sorry_server_lvs_method {}", method(m)));
    }
    w.line(&format!("delay_loop {}", secs(v.delay_loop)));
    opt_timer(w, "connect_timeout", v.connect_timeout);
    if let Some(r) = v.retry {
        w.line(&format!("retry {r}"));
    }
    opt_timer(w, "delay_before_retry", v.delay_before_retry);
    opt_timer(w, "warmup", v.warmup);
    w.bool("inhibit_on_failure", v.inhibit_on_failure);
    for rs in &v.real_servers {
        real_server(w, rs);
    }
    w.close();
}

fn ip(a: &IpAddr) -> String {
    a.to_string()
}

fn real_server(w: &mut W, r: &RealServer) {
    match r.port {
        Some(p) => w.open(&format!("real_server {} {p}", ip(&r.addr))),
        None => w.open(&format!("real_server {}", ip(&r.addr))),
    }
    w.line(&format!("weight {}", r.weight));
    w.line(&format!("lvs_method {}", method(&r.lvs_method)));
    script_line(w, "notify_up", r.notify_up.as_ref());
    script_line(w, "notify_down", r.notify_down.as_ref());
    if let Some(t) = r.uthreshold {
        w.line(&format!("uthreshold {t}"));
    }
    if let Some(t) = r.lthreshold {
        w.line(&format!("lthreshold {t}"));
    }
    if let Some(b) = r.smtp_alert {
        w.bool("smtp_alert", b);
    }
    opt_line(w, "virtualhost", &r.virtualhost);
    opt_line(w, "snmp_name", &r.snmp_name);
    if let Some(a) = r.alpha {
        w.bool("alpha", a);
    }
    opt_timer(w, "connect_timeout", r.connect_timeout);
    if let Some(x) = r.retry {
        w.line(&format!("retry {x}"));
    }
    opt_timer(w, "delay_before_retry", r.delay_before_retry);
    opt_timer(w, "warmup", r.warmup);
    opt_timer(w, "delay_loop", r.delay_loop);
    w.bool("inhibit_on_failure", r.inhibit_on_failure);
    for c in &r.checkers {
        checker(w, c);
    }
    w.close();
}

fn hex(bytes: &[(Option<u8>, Option<u8>)]) -> String {
    let n = |x: Option<u8>| match x {
        Some(v) => format!("{v:x}"),
        None => "x".to_string(),
    };
    bytes
        .iter()
        .map(|(h, l)| format!("{}{}", n(*h), n(*l)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn checker(w: &mut W, c: &Checker) {
    w.open(c.kind.keyword());
    let connects = !matches!(
        c.kind,
        CheckerKind::File(_) | CheckerKind::Bfd { .. } | CheckerKind::Misc(_)
    );
    let timing = !matches!(c.kind, CheckerKind::File(_) | CheckerKind::Bfd { .. });
    if connects {
        if let Some(a) = c.connect_ip {
            w.line(&format!("connect_ip {a}"));
        }
        if let Some(p) = c.connect_port {
            w.line(&format!("connect_port {p}"));
        }
        if let Some(a) = c.bindto {
            w.line(&format!("bindto {a}"));
        }
        opt_line(w, "bind_if", &c.bind_if);
        if let Some(p) = c.bind_port {
            w.line(&format!("bind_port {p}"));
        }
        if let Some(m) = c.fwmark {
            w.line(&format!("fwmark {m}"));
        }
        w.line(&format!("connect_timeout {}", secs(c.connect_timeout)));
    }
    if timing {
        w.bool("alpha", c.alpha);
        w.line(&format!("retry {}", c.retry));
        w.line(&format!(
            "delay_before_retry {}",
            secs(c.delay_before_retry)
        ));
        w.line(&format!("warmup {}", secs(c.warmup)));
        w.line(&format!("delay_loop {}", secs(c.delay_loop)));
        w.bool("log_all_failures", c.log_all_failures);
    }
    match &c.kind {
        CheckerKind::Tcp | CheckerKind::Ping => {}
        CheckerKind::Http(h) | CheckerKind::Ssl(h) => {
            opt_line(w, "http_protocol", &h.http_protocol);
            w.bool("fast_recovery", h.fast_recovery);
            opt_line(w, "virtualhost", &h.virtualhost);
            if matches!(c.kind, CheckerKind::Ssl(_)) {
                w.bool("enable_sni", h.enable_sni);
            }
            for u in &h.urls {
                w.open("url");
                w.line(&format!("path {}", q(&u.path)));
                opt_line(w, "digest", &u.digest);
                let codes: Vec<String> = u
                    .status_codes
                    .iter()
                    .map(|(a, b)| {
                        if a == b {
                            a.to_string()
                        } else {
                            format!("{a}-{b}")
                        }
                    })
                    .collect();
                w.line(&format!("status_code {}", codes.join(" ")));
                opt_line(w, "virtualhost", &u.virtualhost);
                opt_line(w, "regex", &u.regex);
                w.flag("regex_no_match", u.regex_no_match);
                if !u.regex_options.is_empty() {
                    w.line(&format!("regex_options {}", words(&u.regex_options)));
                }
                if let Some((a, b)) = u.regex_stack {
                    w.line(&format!("regex_stack {a} {b}"));
                }
                if let Some(o) = u.regex_min_offset {
                    w.line(&format!("regex_min_offset {o}"));
                }
                if let Some(o) = u.regex_max_offset {
                    w.line(&format!("regex_max_offset {o}"));
                }
                w.close();
            }
        }
        CheckerKind::Smtp { helo_name } => opt_line(w, "helo_name", helo_name),
        CheckerKind::Dns { qtype, name } => {
            w.line(&format!("type {qtype}"));
            w.line(&format!("name {}", q(name)));
        }
        CheckerKind::Misc(m) => {
            let bare = ScriptCommand::from_argv(&m.path.argv);
            w.line(&format!("misc_path {}", script(&bare)));
            if let Some(t) = m.timeout {
                w.line(&format!("misc_timeout {}", whole(t)));
            }
            w.bool("misc_dynamic", m.dynamic);
            if let Some(u) = &m.path.user {
                match &m.path.group {
                    Some(g) => w.line(&format!("user {} {}", q(u), q(g))),
                    None => w.line(&format!("user {}", q(u))),
                }
            }
        }
        CheckerKind::Udp(u) => {
            if let Some(p) = &u.payload {
                let pairs: Vec<(Option<u8>, Option<u8>)> =
                    p.iter().map(|b| (Some(b >> 4), Some(b & 15))).collect();
                w.line(&format!("payload {}", hex(&pairs)));
            }
            if let Some(r) = &u.require_reply {
                if r.is_empty() {
                    w.line("require_reply");
                } else {
                    w.line(&format!("require_reply {}", hex(r)));
                }
            }
            w.line(&format!("min_reply_length {}", u.min_reply_length));
            w.line(&format!("max_reply_length {}", u.max_reply_length));
        }
        CheckerKind::File(f) => {
            w.line(&format!("track_file {}", q(&f.track_file)));
            w.flag("dynamic", f.dynamic);
            if let Some(x) = f.weight {
                w.line(&weight(x, f.reverse));
            }
        }
        CheckerKind::Bfd { name } => w.line(&format!("name {}", q(name))),
    }
    w.close();
}
