//! The GARP and unsolicited-NA frames of the Linux world: queued behind the adverts of the
//! same engine step and sent in bounded chunks, one chunk per loop turn.
//!
//! A burst of gratuitous ARPs is large (keepalived's defaults send 5 per address at
//! becoming Master and 5 more `garp_master_delay` later: 5 000 frames for 1 000 instances,
//! about 20 ms of sending on a veth), and its timer falls due together with the adverts of
//! the same instances. Sent in the engine's order, the burst held the advert batch back by
//! 17-22 ms (scripts/bench-checkers.sh). Queued here, the adverts of a step leave first,
//! and between two chunks the loop turns: timers that fell due meanwhile (adverts of other
//! instances) go out before the rest of the burst.

use super::world::SysWorld;
use crate::sched::Instant;
use std::collections::VecDeque;

/// Frames sent per loop turn: a frame costs about 9 us on a veth (the receiving side's
/// work included), so 32 take about 0.3 ms.
pub const FRAMES_PER_TURN: usize = 32;

/// What a queued frame announces (which counter it adds to).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    Garp,
    Na,
}

/// One frame waiting for its turn.
pub struct QueuedFrame {
    pub ifname: String,
    pub frame: Vec<u8>,
    /// For error lines: `(VI_1) GARP 10.0.0.1`.
    pub what: String,
    pub kind: FrameKind,
}

/// The queue, first in first out.
#[derive(Default)]
pub struct FrameQueue {
    frames: VecDeque<QueuedFrame>,
}

impl FrameQueue {
    pub fn push(&mut self, f: QueuedFrame) {
        self.frames.push_back(f);
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Takes at most `max` frames from the front.
    fn take(&mut self, max: usize) -> Vec<QueuedFrame> {
        let n = max.min(self.frames.len());
        let chunk: Vec<QueuedFrame> = self.frames.drain(..n).collect();
        if self.frames.is_empty() {
            // A burst of thousands leaves a large buffer behind: give it back.
            self.frames = VecDeque::new();
        }
        chunk
    }
}

impl SysWorld {
    /// Whether frames wait: the loop then turns again without sleeping.
    pub fn has_pending_frames(&self) -> bool {
        !self.frames.is_empty()
    }

    /// Sends at most `max` queued frames (`usize::MAX`: all of them).
    pub fn flush_frames(&mut self, now: Instant, max: usize) {
        for f in self.frames.take(max) {
            if self.send_frame(now, &f.ifname, &f.frame, &f.what) {
                match f.kind {
                    FrameKind::Garp => self.stats.garp_sent += 1,
                    FrameKind::Na => self.stats.na_sent += 1,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: u8) -> QueuedFrame {
        QueuedFrame {
            ifname: "eth0".into(),
            frame: vec![n],
            what: format!("frame {n}"),
            kind: FrameKind::Garp,
        }
    }

    #[test]
    fn chunks_come_out_in_order_and_bounded() {
        let mut q = FrameQueue::default();
        for n in 0..10 {
            q.push(frame(n));
        }
        let a = q.take(4);
        assert_eq!(
            a.iter().map(|f| f.frame[0]).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        assert!(!q.is_empty());
        let b = q.take(100);
        assert_eq!(b.len(), 6);
        assert_eq!(b[0].frame[0], 4);
        assert!(q.is_empty());
        assert!(q.take(4).is_empty());
    }
}
