//! A seeded mutational fuzzer for stable Rust: inputs grown from a corpus
//! by random edits, each run through a target; the first input that makes
//! the target panic is minimized and reported as a byte string to keep in
//! `regressions.rs`. The same seed gives the same inputs, so a failure in
//! CI replays anywhere.

use std::panic::{self, AssertUnwindSafe};

/// The seed when `SEEDPACK_FUZZ_SEED` does not set one.
const DEFAULT_SEED: u64 = 0x5eed_9ac0;

/// Inputs are kept below this size: large inputs find nothing small ones
/// do not, and cost time.
const MAX_INPUT: usize = 64 << 10;

/// A fuzz run of one target.
pub struct Run<'a> {
    pub name: &'a str,
    /// Valid inputs to start from.
    pub corpus: Vec<Vec<u8>>,
    /// Fragments that mean something to the target, spliced in.
    pub dictionary: &'a [&'a [u8]],
    /// Inputs tried; `SEEDPACK_FUZZ_SCALE` multiplies it.
    pub iterations: u64,
    pub target: fn(&[u8]),
}

impl Run<'_> {
    /// Try the corpus, then mutants of it; panic with the minimized input
    /// on the first failure.
    pub fn go(self) {
        let seed = variable("SEEDPACK_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
        let scale = variable("SEEDPACK_FUZZ_SCALE").unwrap_or(1);
        let mut rng = fastrand::Rng::with_seed(seed ^ hash(self.name));
        let mut corpus = self.corpus.clone();
        if corpus.is_empty() {
            corpus.push(Vec::new());
        }
        for input in &self.corpus {
            self.try_input(input, seed);
        }
        for _ in 0..self.iterations.saturating_mul(scale) {
            let base = &corpus[rng.usize(..corpus.len())];
            let mut input = base.clone();
            for _ in 0..rng.usize(1..=4) {
                self.mutate(&mut rng, &mut input, &corpus);
            }
            input.truncate(MAX_INPUT);
            self.try_input(&input, seed);
            // Keep some mutants as bases, so edits accumulate.
            if rng.u8(..) < 8 && corpus.len() < 256 {
                corpus.push(input);
            }
        }
    }

    fn try_input(&self, input: &[u8], seed: u64) {
        if let Err(message) = outcome(self.target, input) {
            let small = minimize(self.target, input.to_vec());
            panic!(
                "fuzz target {} failed (SEEDPACK_FUZZ_SEED={seed}): {message}\n\
                 minimized input, to add to tests/fuzz/regressions.rs:\n{}",
                self.name,
                literal(&small)
            );
        }
    }

    fn mutate(&self, rng: &mut fastrand::Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
        let at = rng.usize(..=input.len());
        match rng.u8(..7) {
            0 if !input.is_empty() => {
                let i = rng.usize(..input.len());
                input[i] ^= 1 << rng.u8(..8);
            }
            1 if !input.is_empty() => {
                let i = rng.usize(..input.len());
                input[i] = rng.u8(..);
            }
            2 => {
                let end = (at + rng.usize(1..=16)).min(input.len());
                input.drain(at..end);
            }
            3 if !self.dictionary.is_empty() => {
                let word = self.dictionary[rng.usize(..self.dictionary.len())];
                input.splice(at..at, word.iter().copied());
            }
            4 => {
                let end = (at + rng.usize(1..=64)).min(input.len());
                let copy = input[at..end].to_vec();
                let to = rng.usize(..=input.len());
                input.splice(to..to, copy);
            }
            5 => {
                let other = &corpus[rng.usize(..corpus.len())];
                let from = rng.usize(..=other.len());
                let end = (from + rng.usize(1..=256)).min(other.len());
                input.splice(at..at, other[from..end].iter().copied());
            }
            _ => {
                let bytes: Vec<u8> = (0..rng.usize(1..=8)).map(|_| rng.u8(..)).collect();
                input.splice(at..at, bytes);
            }
        }
    }
}

fn variable(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {value:?}")),
    )
}

/// FNV-1a: each target its own stream from one seed.
fn hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Run the target, turning a panic into its message. The panic hook is
/// silenced meanwhile only by the caller's choice (see `minimize`).
fn outcome(target: fn(&[u8]), input: &[u8]) -> Result<(), String> {
    panic::catch_unwind(AssertUnwindSafe(|| target(input))).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "a panic".into())
    })
}

/// The smallest input found that still fails: chunks removed, halving
/// their size down to single bytes, while the target keeps failing.
fn minimize(target: fn(&[u8]), mut input: Vec<u8>) -> Vec<u8> {
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let mut chunk = input.len() / 2;
    while chunk > 0 {
        let mut at = 0;
        while at < input.len() {
            let end = (at + chunk).min(input.len());
            let mut smaller = input.clone();
            smaller.drain(at..end);
            if outcome(target, &smaller).is_err() {
                input = smaller;
            } else {
                at += chunk;
            }
        }
        chunk /= 2;
    }
    panic::set_hook(hook);
    input
}

/// `b"..."`, as Rust source.
fn literal(input: &[u8]) -> String {
    let escaped: String = input
        .iter()
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect();
    format!("b\"{escaped}\"")
}
