//! A short smoke of every fuzz target (`keepalived_rs::fuzzing::TARGETS`) in the ordinary
//! test run: each target runs over its seed corpus (`fuzz/corpus/<target>/`) and a few
//! thousand deterministic mutations of it (bit flips, interesting bytes, truncation,
//! duplication, splicing). `make fuzz` is the coverage-guided, time-bounded run; this only
//! proves the seeds and simple damage never panic.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reads the corpus

use keepalived_rs::fuzzing::TARGETS;
use std::path::Path;

/// Mutations per target (the config target parses a whole file each time).
const ROUNDS: usize = 3000;

/// xorshift64*: the same mutations on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn seeds(name: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(name);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, other: &[u8]) {
    const INTERESTING: [u8; 8] = [0, 1, 0x7f, 0x80, 0xff, b'{', b'}', b'\n'];
    for _ in 0..1 + rng.below(4) {
        let len = input.len();
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => input.truncate(rng.below(len + 1)),
            3 if len > 0 => {
                let a = rng.below(len);
                let b = a + rng.below(len - a).min(64);
                let piece = input[a..b].to_vec();
                let at = rng.below(len + 1);
                input.splice(at..at, piece);
            }
            4 if !other.is_empty() => {
                let a = rng.below(other.len());
                let at = rng.below(len + 1);
                input.splice(at..at, other[a..].iter().copied().take(32));
            }
            _ => input.push(rng.next() as u8),
        }
    }
}

#[test]
fn every_target_survives_its_seeds_and_their_mutations() {
    for target in TARGETS {
        let corpus = seeds(target.name);
        assert!(!corpus.is_empty(), "no seeds for {}", target.name);
        for s in &corpus {
            (target.run)(s);
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ target.name.len() as u64);
        for round in 0..ROUNDS {
            let mut input = corpus[round % corpus.len()].clone();
            let other = &corpus[rng.below(corpus.len())];
            mutate(&mut rng, &mut input, other);
            (target.run)(&input);
        }
    }
}

#[test]
fn every_target_has_a_seed_corpus_and_nothing_else_is_there() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut want: Vec<String> = TARGETS.iter().map(|t| t.name.to_string()).collect();
    want.sort();
    assert_eq!(names, want);
}
