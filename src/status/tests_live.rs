//! Tests of the extensions rendered from a snapshot: the live status (text and JSON), the
//! metrics exposition (both formats, checked for well-formedness and for the series
//! mehdy/keepalived-exporter's dashboards use) and the control protocol's answers.

use super::control::{answer, parse_request, Request};
use super::live::{render_status_json, render_status_text};
use super::metrics::{render_metrics, Format, MetricKind, WorldMetric};
use super::tests::{advert, facts, master, ms, run};
use std::collections::BTreeSet;

/// A Master (since 3.55 s) that then hears a Master of priority 214 and becomes Backup.
fn demoted() -> crate::engine::Engine {
    let mut e = master();
    advert(&mut e, ms(6500), "10.1.1.2", 214, b"secret\0\0");
    run(&mut e, ms(7000), 0);
    e
}

#[test]
fn status_text_shows_state_priorities_master_and_reason() {
    let e = master();
    let text = render_status_text(&e.snapshot(ms(6000)), &facts(), &[]);
    assert!(
        text.starts_with("keepalived-rs "),
        "header line first:\n{text}"
    );
    assert!(text.contains(" on host1, Sat Nov 28 03:32:56.000000 2026 (up 6 s)\n"));
    for line in [
        "\nVRRP instance VI_1\n",
        "  state                   MASTER\n",
        "  wanted state            MASTER\n",
        "  interface               eth0\n",
        "  vrid                    51\n",
        "  effective priority      115\n",
        "  configured priority     100\n",
        "  last transition         Sat Nov 28 03:32:53.550781 2026\n",
        "  last transition reason  master down timer\n",
        "  vips                    10.1.1.100/24, 10.1.1.101\n",
        "  master:\n    address   10.1.1.1\n    priority  115\n    self      yes\n",
        "    - kind            interface\n      name            eth1\n      status          up\n",
        "    - kind            script\n      name            chk_bad\n      status          GOOD\n",
        "    advert sent          3\n",
        "\nVRRP script chk_ok\n  status    GOOD\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

#[test]
fn status_after_a_demotion_names_the_master_and_why() {
    let e = demoted();
    let snap = e.snapshot(ms(7000));
    let text = render_status_text(&snap, &facts(), &[]);
    assert!(
        text.contains("  state                   BACKUP\n"),
        "{text}"
    );
    assert!(text.contains(
        "  last transition reason  higher priority advert from 10.1.1.2 (priority 214)\n"
    ));
    assert!(text.contains("    address   10.1.1.2\n    priority  214\n    self      no\n"));
    let json = render_status_json(&snap, &facts(), &[]);
    assert!(json.starts_with("{\"program\":\"keepalived-rs\",\"version\":"));
    assert!(json.ends_with("}\n") && json.lines().count() == 1);
    for part in [
        "\"host\":\"host1\"",
        "\"time\":1795836777,",
        "\"uptime\":7,",
        "\"instances\":[{\"name\":\"VI_1\",\"state\":\"BACKUP\",\"state_code\":1,",
        "\"effective_priority\":115,\"configured_priority\":100,",
        "\"master\":{\"address\":\"10.1.1.2\",\"priority\":214,\"self\":false}",
        "\"last_transition\":1795836776.5,",
        "\"last_transition_reason\":\"higher priority advert from 10.1.1.2 (priority 214)\"",
        "\"vips\":[\"10.1.1.100\\/24\",\"10.1.1.101\"]",
        "\"sync_groups\":[]",
        "\"scripts\":[{\"name\":\"chk_ok\",\"status\":\"GOOD\"",
    ] {
        assert!(json.contains(part), "missing {part} in {json}");
    }
}

#[test]
fn a_filter_shows_only_the_instances_named() {
    let e = master();
    let snap = e.snapshot(ms(6000));
    let only = vec!["VI_1".to_string()];
    let text = render_status_text(&snap, &facts(), &only);
    assert!(text.contains("VRRP instance VI_1"));
    assert!(!text.contains("VRRP script"), "{text}");
    let req = parse_request("status json NOPE VI_1").unwrap();
    assert_eq!(
        answer(&req, &snap, &facts(), &[]),
        Err("no VRRP instance named NOPE".to_string())
    );
    let req = Request::Status {
        json: true,
        only: only.clone(),
    };
    let body = answer(&req, &snap, &facts(), &[]).unwrap();
    assert!(body.contains("\"instances\":[{\"name\":\"VI_1\""));
    assert!(!body.contains("\"scripts\""));
}

/// Checks an exposition as a scraper would: every sample belongs to the family of the
/// last `# TYPE`, each family is declared once with HELP then TYPE, counters' samples end
/// in `_total`, no series appears twice; OpenMetrics ends with `# EOF`. Returns the
/// sample lines.
fn well_formed(text: &str, format: Format) -> Vec<String> {
    let mut families = BTreeSet::new();
    let mut series = BTreeSet::new();
    let mut current: Option<(String, String)> = None;
    let mut samples = Vec::new();
    let mut help_for = None;
    let lines: Vec<&str> = text.lines().collect();
    for (k, line) in lines.iter().enumerate() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap().to_string();
            help_for = Some(name);
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut w = rest.split(' ');
            let (name, kind) = (w.next().unwrap().to_string(), w.next().unwrap().to_string());
            assert_eq!(help_for.take().as_deref(), Some(name.as_str()), "{line}");
            assert!(families.insert(name.clone()), "family {name} twice");
            current = Some((name, kind));
        } else if *line == "# EOF" {
            assert_eq!(format, Format::OpenMetrics);
            assert_eq!(k + 1, lines.len(), "# EOF must be last");
        } else {
            assert!(!line.starts_with('#'), "{line}");
            let (name, kind) = current.clone().expect("sample before any TYPE");
            let metric = line.split(['{', ' ']).next().unwrap();
            let expected = match (kind.as_str(), format) {
                ("counter", Format::OpenMetrics) => format!("{name}_total"),
                _ => name.clone(),
            };
            assert_eq!(metric, expected, "{line}");
            if kind == "counter" {
                assert!(metric.ends_with("_total"), "{line}");
            }
            let (key, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
            assert!(series.insert(key.to_string()), "series twice: {key}");
            samples.push(line.to_string());
        }
    }
    if format == Format::OpenMetrics {
        assert_eq!(lines.last(), Some(&"# EOF"));
    }
    samples
}

#[test]
fn metrics_carry_the_exporter_s_series_in_both_formats() {
    let e = master();
    let snap = e.snapshot(ms(6000));
    let world = [WorldMetric {
        name: "keepalived_rs_loop_wakeups",
        help: "Wake-ups of the event loop",
        kind: MetricKind::Counter,
        value: 42.0,
    }];
    let prom = render_metrics(&snap, &facts(), &world, Format::Prometheus);
    let samples = well_formed(&prom, Format::Prometheus);
    for line in [
        "keepalived_up 1",
        "keepalived_vrrp_state{iname=\"VI_1\",intf=\"eth0\",vrid=\"51\",ip_address=\"10.1.1.100/24\"} 2",
        "keepalived_vrrp_state{iname=\"VI_1\",intf=\"eth0\",vrid=\"51\",ip_address=\"10.1.1.101\"} 2",
        "keepalived_advertisements_sent_total{iname=\"VI_1\",intf=\"eth0\",vrid=\"51\"} 3",
        "keepalived_advertisements_received_total{iname=\"VI_1\",intf=\"eth0\",vrid=\"51\"} 0",
        "keepalived_become_master_total{iname=\"VI_1\",intf=\"eth0\",vrid=\"51\"} 1",
        "keepalived_priority_zero_sent_total{iname=\"VI_1\",intf=\"eth0\",vrid=\"51\"} 0",
        "keepalived_gratuitous_arp_delay_total{iname=\"VI_1\",intf=\"eth0\",vrid=\"51\"} 5",
        "keepalived_script_status{name=\"chk_bad\"} 1",
        "keepalived_script_state{name=\"chk_ok\"} 0",
        "keepalived_rs_effective_priority{iname=\"VI_1\",intf=\"eth0\",vrid=\"51\"} 115",
        "keepalived_rs_last_transition_timestamp_seconds{iname=\"VI_1\",intf=\"eth0\",vrid=\"51\"} 1795836773.550781",
        "keepalived_rs_conflicts_total{iname=\"VI_1\",intf=\"eth0\",vrid=\"51\",kind=\"DUAL_MASTER\"} 0",
        "keepalived_rs_tracked_fault{iname=\"VI_1\",kind=\"interface\",name=\"eth1\"} 0",
        "keepalived_rs_loop_wakeups_total 42",
    ] {
        assert!(samples.iter().any(|s| s == line), "missing {line} in\n{prom}");
    }
    assert!(prom.contains("# TYPE keepalived_advertisements_sent_total counter\n"));
    assert!(!prom.contains("# EOF"));
    let om = render_metrics(&snap, &facts(), &world, Format::OpenMetrics);
    let om_samples = well_formed(&om, Format::OpenMetrics);
    assert!(om.contains("# TYPE keepalived_advertisements_sent counter\n"));
    assert!(om.contains("# TYPE keepalived_vrrp_state gauge\n"));
    // The same series in both formats.
    assert_eq!(samples, om_samples);
}

#[test]
fn a_conflict_shows_in_status_and_metrics() {
    let mut e = master();
    // A lower-priority router advertising another address list: an ADDRESS_LIST conflict.
    advert(&mut e, ms(6100), "10.1.1.2", 50, b"secret\0\0");
    let snap = e.snapshot(ms(6200));
    let prom = render_metrics(&snap, &facts(), &[], Format::Prometheus);
    let samples = well_formed(&prom, Format::Prometheus);
    let labels = "iname=\"VI_1\",intf=\"eth0\",vrid=\"51\",kind=\"ADDRESS_LIST\"";
    assert!(samples.contains(&format!("keepalived_rs_conflicts_total{{{labels}}} 1")));
    assert!(samples.contains(&format!("keepalived_rs_conflict_active{{{labels}}} 1")));
    let text = render_status_text(&snap, &facts(), &[]);
    assert!(
        text.contains("    - kind       ADDRESS_LIST\n      active     yes\n      episodes   1\n      peer       10.1.1.2\n"),
        "{text}"
    );
    // Over a Master_Down_Interval later the episode is over, its count stays.
    let later = e.snapshot(ms(12000));
    let prom = render_metrics(&later, &facts(), &[], Format::Prometheus);
    assert!(prom.contains(&format!("keepalived_rs_conflict_active{{{labels}}} 0\n")));
    assert!(prom.contains(&format!("keepalived_rs_conflicts_total{{{labels}}} 1\n")));
}

#[test]
fn an_instance_without_vips_keeps_one_state_series() {
    let conf = "vrrp_instance V { interface eth0\n virtual_router_id 7\n priority 50\n }\n";
    let mut e = super::tests::engine(conf);
    e.handle(
        ms(0),
        crate::event::Event::Interface(super::tests::iface("eth0", 2, true, "10.1.1.1", 1)),
    );
    e.handle(ms(0), crate::event::Event::Startup);
    let prom = render_metrics(&e.snapshot(ms(1)), &facts(), &[], Format::Prometheus);
    assert!(prom.contains(
        "keepalived_vrrp_state{iname=\"V\",intf=\"eth0\",vrid=\"7\",ip_address=\"\"} 1\n"
    ));
}
