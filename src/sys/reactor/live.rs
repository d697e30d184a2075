//! The reactor's side of the control socket and the metrics endpoint (extensions of
//! keepalived-rs, `sys::control`): opening them once the engine runs, answering requests
//! from the engine's snapshot (`crate::status::control`), and the loop's own figures as
//! metrics.

use super::{host_facts, Reactor};
use crate::sched::Instant;
use crate::status::control::answer;
use crate::status::metrics::{MetricKind, WorldMetric};
use crate::sys::control::Endpoint;

fn counter(name: &'static str, help: &'static str, value: u64) -> WorldMetric {
    WorldMetric {
        name,
        help,
        kind: MetricKind::Counter,
        value: value as f64,
    }
}

fn gauge(name: &'static str, help: &'static str, value: f64) -> WorldMetric {
    WorldMetric {
        name,
        help,
        kind: MetricKind::Gauge,
        value,
    }
}

impl Reactor {
    /// Opens the control socket (unless turned off) and the metrics endpoint (when
    /// `metrics_listen` is set). Failures are logged; the daemon runs on without them.
    pub(super) fn open_control(&mut self) {
        if let Some(path) = self.opts.control_socket.clone() {
            match self.control.open_socket(&path, &mut self.world.tokens) {
                Ok(()) => log::info!("control socket {}", path.display()),
                Err(e) => log::error!("control socket: {e}"),
            }
        }
        let addr = self.config.global.metrics_listen;
        self.control.set_http(addr, &mut self.world.tokens);
    }

    /// Something happened on the control socket, the metrics endpoint or a connection:
    /// requests read are answered from the engine's state at `now`.
    pub(super) fn on_control(&mut self, ep: Endpoint, now: Instant) {
        let asks = self.control.on_ready(ep, now, &mut self.world.tokens);
        if asks.is_empty() {
            return;
        }
        let snap = self.engine.snapshot(now);
        let facts = host_facts(now, Vec::new());
        let world = self.world_metrics();
        for ask in asks {
            let reply = answer(&ask.request, &snap, &facts, &world);
            self.control
                .reply(ask.client, reply, &mut self.world.tokens);
        }
    }

    /// The loop's own figures: wake-ups, timer lateness, I/O and children, the control
    /// connections.
    fn world_metrics(&self) -> Vec<WorldMetric> {
        let st = &self.world.stats;
        let c = &self.control.stats;
        vec![
            counter(
                "keepalived_rs_loop_wakeups",
                "Wake-ups of the event loop",
                self.wakeups,
            ),
            counter(
                "keepalived_rs_timer_runs",
                "Wake-ups that ran due engine timers",
                self.timer_fires,
            ),
            gauge(
                "keepalived_rs_timer_lateness_max_seconds",
                "Largest delay between a timer's deadline and its run",
                self.max_timer_lateness.as_secs_f64(),
            ),
            counter(
                "keepalived_rs_timer_runs_late",
                "Timer runs later than 1 ms after their deadline",
                self.late_timer_fires,
            ),
            WorldMetric {
                name: "keepalived_rs_timer_lateness_seconds",
                help: "Delays between timers' deadlines and their runs, added up (divide by \
                       keepalived_rs_timer_runs_total for the mean)",
                kind: MetricKind::Counter,
                value: self.total_timer_lateness.as_secs_f64(),
            },
            counter(
                "keepalived_rs_adverts_sent",
                "Adverts put on the wire",
                st.adverts_sent,
            ),
            counter(
                "keepalived_rs_advert_send_errors",
                "Adverts that could not be sent",
                st.advert_send_errors,
            ),
            counter(
                "keepalived_rs_packets_received",
                "VRRP packets read from the sockets",
                st.packets_received,
            ),
            counter(
                "keepalived_rs_gratuitous_arps_sent",
                "Gratuitous ARPs sent",
                st.garp_sent,
            ),
            counter(
                "keepalived_rs_neighbour_advertisements_sent",
                "Unsolicited neighbour advertisements sent",
                st.na_sent,
            ),
            counter(
                "keepalived_rs_scripts_started",
                "Scripts started",
                st.scripts_started,
            ),
            counter(
                "keepalived_rs_scripts_failed_to_start",
                "Scripts that could not be started",
                st.scripts_failed_to_start,
            ),
            gauge(
                "keepalived_rs_children_running",
                "Child processes running",
                self.world.procs.len() as f64,
            ),
            counter(
                "keepalived_rs_netlink_errors",
                "Netlink requests the kernel refused",
                self.world.nl.errors,
            ),
            counter(
                "keepalived_rs_control_connections",
                "Connections accepted on the control socket and the metrics endpoint",
                c.accepted,
            ),
            counter(
                "keepalived_rs_control_refused",
                "Connections refused at once (too many, or not root)",
                c.refused,
            ),
            counter(
                "keepalived_rs_control_timeouts",
                "Connections closed at their deadline (request or answer too slow)",
                c.timeouts,
            ),
            counter(
                "keepalived_rs_control_requests",
                "Requests answered on the control socket and the metrics endpoint",
                c.requests,
            ),
        ]
    }
}
