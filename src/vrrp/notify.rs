//! Notify script arguments and notify_fifo lines (filled by the engine work).
