//! Time for the engine: a monotonic [`Instant`] in nanoseconds and the [`TimerWheel`] that
//! indexes every deadline of the engine. Both worlds (real and simulated) drive the same
//! wheel; neither this module nor its users ever read a clock.

mod crowd;
mod time;
mod wheel;

pub use crowd::{Crowd, CHECK_CROWD};
pub use time::Instant;
pub use wheel::{TimerHandle, TimerWheel};
