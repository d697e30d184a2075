//! Process entry: parse the command line and pick a mode.
fn main() {
    eprintln!("keepalived-rs: not built yet");
    std::process::exit(1);
}
