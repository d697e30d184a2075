//! The simulated world: a clock that jumps to the next deadline, a virtual network of L2
//! segments, virtual kernels, and the scenario language (filled by the simulator work).
