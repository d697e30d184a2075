//! Tracking weights: track_interface / track_script / track_file / track_process
//! (filled by the engine work).
