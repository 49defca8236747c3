//! The flags of a scenario (`--name value`), read the same way by every
//! scenario so that `--rows 5_000` or `--rows 5,000` means the same in each.

use std::str::FromStr;

use anyhow::{bail, Context as _, Result};

/// A scenario's arguments (after its name).
#[derive(Clone, Copy)]
pub struct Args<'a>(pub &'a [String]);

impl<'a> Args<'a> {
    /// The value after `name`, if the flag is given.
    pub fn value(self, name: &str) -> Option<&'a str> {
        let args = self.0;
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(String::as_str)
    }

    /// Whether the bare flag `name` is given (`--dry-run`).
    pub fn has(self, name: &str) -> bool {
        self.0.iter().any(|a| a == name)
    }

    /// The number after `name`, `default` without it; `_` and `,` group
    /// digits (`100_000`, `100,000`).
    pub fn number<T: FromStr>(self, name: &str, default: T) -> Result<T>
    where
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        self.value(name).map_or(Ok(default), |v| {
            v.replace(['_', ','], "")
                .parse()
                .with_context(|| format!("{name} takes a number"))
        })
    }

    /// The value of `name` among `choices` (`default` without it): the
    /// index of the choice, or an error that lists them.
    pub fn choice(self, name: &str, default: &str, choices: &[&str]) -> Result<usize> {
        let given = self.value(name).unwrap_or(default);
        match choices.iter().position(|c| *c == given) {
            Some(index) => Ok(index),
            None => bail!("{name} {}, not {given}", choices.join("|")),
        }
    }

    /// `--mode A|B|both`: the mode named, or both in that order (`default`
    /// when the flag is not given).
    pub fn modes(self, default: &str, [a, b]: [&'static str; 2]) -> Result<Vec<&'static str>> {
        Ok(match self.choice("--mode", default, &[a, b, "both"])? {
            0 => vec![a],
            1 => vec![b],
            _ => vec![a, b],
        })
    }
}
