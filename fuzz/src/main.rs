//! The AFL++ entry: runs the fuzz target named by `KRS_FUZZ_TARGET` on each input.

fn main() {
    let name = std::env::var("KRS_FUZZ_TARGET").unwrap_or_default();
    let Some(target) = keepalived_rs::fuzzing::target(&name) else {
        let names: Vec<&str> = keepalived_rs::fuzzing::TARGETS.iter().map(|t| t.name).collect();
        eprintln!("KRS_FUZZ_TARGET must be one of: {}", names.join(" "));
        std::process::exit(2);
    };
    afl::fuzz!(|data: &[u8]| {
        (target.run)(data);
    });
}
