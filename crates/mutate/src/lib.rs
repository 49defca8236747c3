//! Seeded random and mutated inputs for the "hostile input never stops a
//! process" tests of every parser of outside data (CSV sets, catalogues,
//! Etalab, Aides-territoires, RSS/Atom, territory files).
//!
//! Why not `proptest` or `cargo fuzz`: the parsers take bytes and must never
//! panic, whatever the bytes; what finds their bugs is mutating *valid*
//! documents (so that the parser gets deep before meeting the damage) with
//! the tokens that matter to each format (quotes, separators, nesting
//! openers, entities, BOMs, invalid UTF-8). That is a hundred lines without a
//! dependency, deterministic (a fixed seed per test, so a failure replays
//! identically; the failing input is printed by the caller) and fast enough
//! to run a few hundred cases per reader in the ordinary test suite.

/// Bytes that break formats when inserted at random: quoting, separators,
/// line ends, nesting, markup, entities, BOM, invalid UTF-8, NUL, formulas.
pub const TOKENS: &[&[u8]] = &[
    b"\"",
    b"'",
    b",",
    b";",
    b"|",
    b"\n",
    b"\r\n",
    b"\r",
    b"\t",
    b" ",
    b"[",
    b"]",
    b"{",
    b"}",
    b":",
    b"<",
    b">",
    b"</",
    b"/>",
    b"&",
    b"&amp;",
    b"&#x0;",
    b"&#99999999;",
    b"<![CDATA[",
    b"]]>",
    b"\\",
    b"\xEF\xBB\xBF",
    b"\xFF",
    b"\xC3",
    b"\0",
    b"=cmd|' /C calc'!A0",
    b"javascript:alert(1)",
    b"https://example.org/\r\nBEGIN:VEVENT",
    b"9999999999999999999999",
    b"-1",
    b"2027-02-30",
    b"\xC2\xA0",
];

/// A small deterministic generator (SplitMix64): enough for test inputs.
#[derive(Debug, Clone)]
pub struct Mutator {
    state: u64,
}

impl Mutator {
    /// A generator whose whole sequence depends only on `seed`.
    pub fn new(seed: u64) -> Self {
        Mutator { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        // The modulo bias is irrelevant for test inputs.
        (self.next_u64() % n as u64) as usize
    }

    /// Up to `max_len` random bytes, half of the time printable ASCII
    /// mixed with [`TOKENS`], otherwise any byte.
    pub fn random_bytes(&mut self, max_len: usize) -> Vec<u8> {
        let len = self.below(max_len + 1);
        let printable = self.below(2) == 0;
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            if printable {
                if self.below(4) == 0 {
                    out.extend_from_slice(TOKENS[self.below(TOKENS.len())]);
                } else {
                    out.push(b' ' + self.below(95) as u8);
                }
            } else {
                out.push(self.next_u64() as u8);
            }
        }
        out
    }

    /// `input` with one to four random edits: a byte replaced, a token
    /// inserted, a range deleted or duplicated, the end cut, a token repeated
    /// many times (deep nesting, long cells).
    pub fn mutate(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = input.to_vec();
        for _ in 0..1 + self.below(4) {
            let at = self.below(out.len() + 1);
            match self.below(7) {
                0 if !out.is_empty() => {
                    let at = at.min(out.len() - 1);
                    out[at] = self.next_u64() as u8;
                }
                1 => {
                    let token = TOKENS[self.below(TOKENS.len())];
                    out.splice(at..at, token.iter().copied());
                }
                2 => {
                    let end = (at + 1 + self.below(64)).min(out.len());
                    out.drain(at.min(end)..end);
                }
                3 => {
                    let end = (at + 1 + self.below(256)).min(out.len());
                    let copy = out[at.min(end)..end].to_vec();
                    out.splice(at..at, copy);
                }
                4 => out.truncate(at),
                5 => {
                    let token = TOKENS[self.below(TOKENS.len())];
                    let times = 1 + self.below(2000);
                    let repeated: Vec<u8> = token.iter().copied().cycle().take(token.len() * times).collect();
                    out.splice(at..at, repeated);
                }
                _ => {
                    let noise = self.random_bytes(16);
                    out.splice(at..at, noise);
                }
            }
        }
        out
    }

    /// `count` inputs: mostly mutations of the `valid` documents (taken in
    /// turn), one in eight purely random bytes.
    pub fn cases(&mut self, valid: &[&[u8]], count: usize) -> Vec<Vec<u8>> {
        (0..count)
            .map(|index| {
                if valid.is_empty() || index % 8 == 7 {
                    self.random_bytes(512)
                } else {
                    self.mutate(valid[index % valid.len()])
                }
            })
            .collect()
    }
}

/// Runs `check` on every case of [`Mutator::cases`] with `seed`; on a panic,
/// re-raises it with the failing input (lossy UTF-8, capped) so that the test
/// output shows what to add as a regular test.
pub fn for_each_case(seed: u64, valid: &[&[u8]], count: usize, mut check: impl FnMut(&[u8])) {
    let mut mutator = Mutator::new(seed);
    for (index, case) in mutator.cases(valid, count).into_iter().enumerate() {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&case)));
        if let Err(panic) = outcome {
            let shown: String = String::from_utf8_lossy(&case).chars().take(2000).collect();
            eprintln!("case {index} (seed {seed}) failed on input: {shown:?}");
            std::panic::resume_unwind(panic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_cases() {
        let valid: &[&[u8]] = &[b"id,name\n1,a\n"];
        assert_eq!(Mutator::new(7).cases(valid, 50), Mutator::new(7).cases(valid, 50));
        assert_ne!(Mutator::new(7).cases(valid, 50), Mutator::new(8).cases(valid, 50));
    }

    #[test]
    fn mutations_change_the_input() {
        let valid = b"id,name\n1,a\n";
        let mut mutator = Mutator::new(1);
        let changed = (0..100).filter(|_| mutator.mutate(valid) != valid).count();
        assert!(changed > 90, "{changed}");
        assert!(mutator.below(0) == 0);
    }

    #[test]
    fn a_failing_case_is_reported_and_re_raised() {
        let outcome = std::panic::catch_unwind(|| {
            for_each_case(3, &[b"x"], 10, |case| assert!(case.len() > 10_000_000));
        });
        assert!(outcome.is_err());
    }
}
